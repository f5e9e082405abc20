package usermerge

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestMergeList(t *testing.T) {
	for _, c := range []struct {
		ids  []int64
		want string
	}{
		{[]int64{5}, "merge 5"},
		{[]int64{2, 7}, "merges 2 and 7"},
		{[]int64{2, 5, 7}, "merges 2, 5 and 7"},
	} {
		if got := MergeList(c.ids); got != c.want {
			t.Errorf("MergeList(%v) = %q, want %q", c.ids, got, c.want)
		}
	}
}

func TestErrorSentenceKeepsLoginsLowercase(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{Errorf(Conflict, "target_not_active", "%s (%s) is not active", "mgarcia", "Maria Garcia"), "mgarcia (Maria Garcia) is not active"},
		{Errorf(Forbidden, "merging_disabled", "merging accounts is switched off for tenant %s", "acme"), "Merging accounts is switched off for tenant acme"},
		{InternalError(errString("disk on fire")), "Internal error"},
	} {
		if got := ErrorSentence(c.err); got != c.want {
			t.Errorf("ErrorSentence(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestKeptNoteHasNoStrayParenthesis(t *testing.T) {
	for from, want := range map[string]string{
		"target": "kept over r-2 as the later one, the kept account's",
		"source": "kept over r-2 as the later one, the merged account's",
	} {
		got := KeptNote(from, "r-2")
		if got != want {
			t.Errorf("KeptNote(%q) = %q, want %q", from, got, want)
		}
		if strings.Count(got, "(") != strings.Count(got, ")") {
			t.Errorf("KeptNote(%q) = %q: unbalanced parentheses", from, got)
		}
	}
}

// TestMessagesReadAsWritten guards every message format in the program's
// code (not tests, not the bench): no "(s)" plurals, no " [%d]" or "%v]"
// lists. Formats are the string literals given to Errorf (ours and fmt's),
// Sprintf and Fprintf. Slices formatted with a bare %v are caught at run
// time instead: apiExpect (server tests) checks every error message for
// Go's list syntax.
func TestMessagesReadAsWritten(t *testing.T) {
	bad := regexp.MustCompile(`\w\(s\)|\s\[%|%v\]`)
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() && path != "." && (d.Name() == "bench" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			if err == nil {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "storetest") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !strings.HasSuffix(sel.Sel.Name, "printf") && !strings.HasSuffix(sel.Sel.Name, "Errorf") {
				return true
			}
			for _, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				if bad.MatchString(s) {
					t.Errorf("%s: message %q reads as code, not as written by a person", fset.Position(lit.Pos()), s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
