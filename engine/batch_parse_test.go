package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"usermerge"
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

// problems answers the problems of a refused batch, failing the test when
// err is not one.
func problems(t *testing.T, err error) *usermerge.BatchProblems {
	t.Helper()
	var ue *usermerge.Error
	var bp *usermerge.BatchProblems
	if !errors.As(err, &ue) || ue.Reason != "batch_refused" || !errors.As(err, &bp) {
		t.Fatalf("err = %v, want a batch_refused error carrying BatchProblems", err)
	}
	return bp
}

// lineReasons renders problems as "line:reason" for comparison.
func lineReasons(bp *usermerge.BatchProblems) []string {
	var out []string
	for _, p := range bp.Problems {
		out = append(out, fmt.Sprintf("%d:%s", p.Line, p.Reason))
	}
	return out
}

func TestParseBatchCSV(t *testing.T) {
	// A BOM, CRLF line ends, a quoted reason holding a comma, a quote and a
	// line break, blank lines, sources split on ";" with spaces, columns in
	// another order and in upper case, repeated source columns.
	in := "\uFEFFReason,Target,Sources,move_external_ids\r\n" +
		"\"dup, \"\"SSO\"\"\nimport\",T,S; S2 ;,true\r\n" +
		"\r\n" +
		",login-T2,sso:abc,\r\n" +
		"\n" +
		"x,T3,S4,No\r\n"
	rows, err := ParseBatch(strings.NewReader(in), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []usermerge.BatchRow{
		{Line: 2, Target: "T", Sources: []string{"S", "S2"}, MoveExternalIDs: yes(), Reason: "dup, \"SSO\"\nimport"},
		{Line: 5, Target: "login-T2", Sources: []string{"sso:abc"}},
		{Line: 7, Target: "T3", Sources: []string{"S4"}, MoveExternalIDs: no(), Reason: "x"},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}

	rows, err = ParseBatch(strings.NewReader("target,source,source,source\nT,S,,S2\n"), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]usermerge.BatchRow{{Line: 2, Target: "T", Sources: []string{"S", "S2"}}}, rows); d != "" {
		t.Errorf("repeated source columns (-want +got):\n%s", d)
	}
}

func TestParseBatchNDJSON(t *testing.T) {
	in := "\uFEFF{\"target\":\"T\",\"sources\":[\"S\",\" S2 \"],\"move_external_ids\":false,\"reason\":\"r\"}\r\n" +
		"\r\n" +
		"   \n" +
		"{\"sources\":[\"hr:42\"],\"target\":\"login-T2\",\"move_external_ids\":null}\n"
	rows, err := ParseBatch(strings.NewReader(in), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []usermerge.BatchRow{
		{Line: 1, Target: "T", Sources: []string{"S", "S2"}, MoveExternalIDs: no(), Reason: "r"},
		{Line: 4, Target: "login-T2", Sources: []string{"hr:42"}},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestParseBatchRefusals(t *testing.T) {
	long := strings.Repeat("é", 1001) // 2002 bytes
	cases := []struct {
		name, format, in string
		want             []string
	}{
		{"unknown column", "csv", "target,sources,colour\nT,S,red\n", []string{"1:unknown_column"}},
		{"column named twice", "csv", "target,sources,target\nT,S,T\n", []string{"1:duplicate_column"}},
		{"no target column", "csv", "sources,reason\nS,x\n", []string{"1:target_column_required"}},
		{"missing target, every bad line named", "csv", "target,sources\n,S\nT,S\n  ,S2\n", []string{"2:target_required", "4:target_required"}},
		{"missing sources", "csv", "target,sources\nT, ; \n", []string{"2:sources_required"}},
		{"bad boolean", "csv", "target,sources,move_external_ids\nT,S,maybe\nT2,S2,true\n", []string{"2:bad_boolean"}},
		{"over-long reason", "csv", "target,sources,reason\nT,S," + long + "\nT2,S2," + long[:1998] + "\n", []string{"2:reason_too_long"}},
		{"invalid UTF-8", "csv", "target,sources\nT,S\nT\xff,S2\n", []string{"3:invalid_utf8"}},
		{"more fields than columns", "csv", "target,sources\nT,S,extra\n", []string{"2:too_many_fields"}},
		{"bad quoting", "csv", "target,sources\nT,S\"x\"\nT2,S2\n", []string{"2:csv_syntax"}},
		{"header only", "csv", "", []string{"1:header_required"}},
		{"unknown key", "ndjson", `{"target":"T","sources":["S"],"colour":"red"}` + "\n", []string{"1:unknown_key"}},
		{"missing target key", "ndjson", `{"sources":["S"]}` + "\n" + `{"target":"T","sources":["S2"]}` + "\n\n" + `{"target":"","sources":["S3"]}`,
			[]string{"1:target_required", "4:target_required"}},
		{"bad boolean key", "ndjson", `{"target":"T","sources":["S"],"move_external_ids":"yes"}`, []string{"1:bad_boolean"}},
		{"sources not an array", "ndjson", `{"target":"T","sources":"S"}`, []string{"1:bad_value"}},
		{"not one object", "ndjson", `{"target":"T","sources":["S"]} {"target":"U"}` + "\n" + `{"target":`, []string{"1:json_syntax", "2:json_syntax"}},
		{"invalid UTF-8 line", "ndjson", "{\"target\":\"T\xff\",\"sources\":[\"S\"]}", []string{"1:invalid_utf8"}},
		{"over-long reason key", "ndjson", `{"target":"T","sources":["S"],"reason":"` + long + `"}`, []string{"1:reason_too_long"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseBatch(strings.NewReader(c.in), c.format)
			bp := problems(t, err)
			if c.name == "missing target, every bad line named" && bp.Rows != 3 {
				t.Errorf("Rows = %d, want 3 (the rows read, good and bad)", bp.Rows)
			}
			if d := cmp.Diff(c.want, lineReasons(bp)); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseBatchLimits(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		_, err := ParseBatch(strings.NewReader("target,sources\n\n"), "")
		if usermerge.ErrorReason(err) != "batch_empty" {
			t.Errorf("err = %v, want batch_empty", err)
		}
	})
	t.Run("rows", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("target,sources\n")
		for i := range usermerge.MaxBatchRows {
			fmt.Fprintf(&b, "t%d,s%d\n", i, i)
		}
		if rows, err := ParseBatch(bytes.NewReader(b.Bytes()), "csv"); err != nil || len(rows) != usermerge.MaxBatchRows {
			t.Fatalf("a file of MaxBatchRows rows: %d rows, %v", len(rows), err)
		}
		b.WriteString("one,more\n")
		_, err := ParseBatch(bytes.NewReader(b.Bytes()), "csv")
		want := []string{fmt.Sprintf("%d:too_many_rows", usermerge.MaxBatchRows+2)}
		if d := cmp.Diff(want, lineReasons(problems(t, err))); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
	})
	t.Run("bad rows count", func(t *testing.T) {
		var b bytes.Buffer
		for range usermerge.MaxBatchRows {
			b.WriteString(`{"sources":["S"]}` + "\n")
		}
		b.WriteString(`{"target":"T","sources":["S"]}` + "\n")
		bp := problems(t, func() error { _, err := ParseBatch(&b, ""); return err }())
		if bp.Rows != usermerge.MaxBatchRows || bp.More != usermerge.MaxBatchRows+1-usermerge.MaxRowProblems {
			t.Errorf("Rows %d, More %d: want every line counted, the last as too_many_rows", bp.Rows, bp.More)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		head := "target,sources,reason\nT,S,"
		body := io.MultiReader(strings.NewReader(head), io.LimitReader(repeatReader('x'), int64(usermerge.MaxBatchBytes-len(head)+1)))
		_, err := ParseBatch(body, "csv")
		if d := cmp.Diff([]string{"0:file_too_large"}, lineReasons(problems(t, err))); d != "" {
			t.Errorf("problems (-want +got):\n%s", d)
		}
	})
	t.Run("problems capped", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("target,sources\n")
		for range usermerge.MaxRowProblems + 7 {
			b.WriteString(",S\n")
		}
		bp := problems(t, func() error { _, err := ParseBatch(&b, "csv"); return err }())
		if len(bp.Problems) != usermerge.MaxRowProblems || bp.More != 7 {
			t.Errorf("%d problems listed and %d more, want %d and 7", len(bp.Problems), bp.More, usermerge.MaxRowProblems)
		}
		if !strings.Contains(bp.Error(), fmt.Sprintf("%d problems", usermerge.MaxRowProblems+7)) {
			t.Errorf("Error() = %q, want the whole count", bp.Error())
		}
	})
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// FuzzParseBatch: whatever the bytes, the parser answers rows or a
// refusal, never a panic, and every row it answers has a target and a
// source and a line.
func FuzzParseBatch(f *testing.F) {
	f.Add("target,sources\nT,S;S2\n", "")
	f.Add("\uFEFFtarget,source,source,move_external_ids,reason\r\n\"T\",S,S2,yes,\"a\"\"b\"\r\n", "csv")
	f.Add(`{"target":"T","sources":["S"],"move_external_ids":true}`+"\n", "")
	f.Add("{\"target\":\"T\xff\"}\n{", "ndjson")
	f.Fuzz(func(t *testing.T, in, format string) {
		rows, err := ParseBatch(strings.NewReader(in), format)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Target == "" || len(r.Sources) == 0 || r.Line < 1 {
				t.Fatalf("row %+v of %q", r, in)
			}
		}
	})
}
