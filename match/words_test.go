package match

import "testing"

// Every close level has words, and no words name a level that does not
// exist (a renamed level would silently lose its words).
func TestLevelWords(t *testing.T) {
	known := map[string]map[string]string{}
	for _, f := range fields {
		known[f.name] = map[string]string{}
		for l, name := range f.levels {
			known[f.name][name] = f.outcomes[l]
			if f.outcomes[l] == close_ && LevelWords(f.name, name) == "" {
				t.Errorf("%s level %s is close but has no words", f.name, name)
			}
		}
	}
	for field, levels := range levelWords {
		for level := range levels {
			if _, ok := known[field][level]; !ok {
				t.Errorf("words for %s level %s, which does not exist", field, level)
			}
		}
	}
	if LevelWords(FieldName, "exact") != "" || LevelWords("nope", "x") != "" {
		t.Error("words for a level that needs none")
	}
}
