package usermerge_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	mdLink     = regexp.MustCompile(`\]\(([^)\s]+)\)|<((?:https?|mailto):[^>\s]+)>`)
	mdFileName = regexp.MustCompile("[A-Za-z0-9_./-]+\\.md\\b")
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*$`)
	mdFence    = regexp.MustCompile("(?ms)^```.*?^```")
)

// TestDocLinks checks that the README and docs/ link only to files inside
// the repository that exist (and to headings they have), and name no
// Markdown file the repository lacks: a clone must not hold dead links.
func TestDocLinks(t *testing.T) {
	docs, _ := filepath.Glob("docs/*.md")
	docs = append([]string{"README.md"}, docs...)
	for _, doc := range docs {
		for _, bad := range docProblems(t, doc) {
			t.Errorf("%s: %s", doc, bad)
		}
	}
}

// TestDocLinksCatchDeadLinks: the check fails on a link out of the
// repository, to a missing file or heading, and on a missing file named in
// the text; and passes a link that resolves.
func TestDocLinksCatchDeadLinks(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "docs", "x.md")
	os.MkdirAll(filepath.Dir(doc), 0o755)
	os.WriteFile(filepath.Join(dir, "docs", "design.md"), []byte("# How it works\n\n## Layout\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("# usermerge\n"), 0o644)
	for _, c := range []struct{ text, want string }{
		{"see [the spec](../../shared/PRODUCT.md)", "outside the repository"},
		{"see [rules](missing.md)", "missing file"},
		{"see [layout](design.md#no-such-heading)", "no heading"},
		{"as PRODUCT.md §7 says", "names PRODUCT.md"},
		{"see [layout](design.md#layout) and [readme](../README.md)", ""},
	} {
		os.WriteFile(doc, []byte(c.text+"\n"), 0o644)
		got := strings.Join(docProblemsIn(dir, doc), "; ")
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%q: problems %q, want %q", c.text, got, c.want)
		}
	}
}

func docProblems(t *testing.T, doc string) []string {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	return docProblemsIn(root, filepath.Join(root, doc))
}

// docProblemsIn lists the dead links of the Markdown file doc in the
// repository at root. Commands in code blocks are not links.
func docProblemsIn(root, doc string) []string {
	b, err := os.ReadFile(doc)
	if err != nil {
		return []string{err.Error()}
	}
	text := mdFence.ReplaceAllString(string(b), "")
	var out []string
	for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
		target := m[1]
		if target == "" || strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		file, anchor, _ := strings.Cut(target, "#")
		path := doc
		if file != "" {
			path = filepath.Join(filepath.Dir(doc), filepath.FromSlash(file))
		}
		if rel, err := filepath.Rel(root, path); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = append(out, "link "+target+" points outside the repository")
			continue
		}
		if _, err := os.Stat(path); err != nil {
			out = append(out, "link "+target+" points to a missing file")
			continue
		}
		if anchor != "" && !hasHeading(path, anchor) {
			out = append(out, "link "+target+": "+file+" has no heading #"+anchor)
		}
	}
	for _, name := range mdFileName.FindAllString(text, -1) {
		if !existsIn(root, filepath.Dir(doc), name) {
			out = append(out, "names "+name+", which the repository does not hold")
		}
	}
	return out
}

func existsIn(root, dir, name string) bool {
	for _, base := range []string{dir, root} {
		if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(name))); err == nil {
			return true
		}
	}
	return false
}

// hasHeading reports whether the Markdown file has a heading whose
// GitHub anchor is anchor.
func hasHeading(path, anchor string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(string(b), ""), -1) {
		if slug(m[1]) == anchor {
			return true
		}
	}
	return false
}

// slug is GitHub's anchor of a heading: lower case, spaces to hyphens,
// punctuation other than hyphens and underscores dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}
