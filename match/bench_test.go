package match

import "testing"

var sinkF float64
var sinkN NameComparison
var sinkE EmailComparison

func BenchmarkJaroWinkler(b *testing.B) {
	for b.Loop() {
		sinkF = JaroWinkler("SHACKLEFORD", "SHACKELFORD")
	}
}

func BenchmarkJaroWinklerDifferent(b *testing.B) {
	for b.Loop() {
		sinkF = JaroWinkler("HARDIN", "MARTINEZ")
	}
}

// BenchmarkCompareNames includes normalising both names, as a one-off check
// does.
func BenchmarkCompareNames(b *testing.B) {
	x, y := Name{"Robert", "Shackleford"}, Name{"Bob", "Shackelford"}
	for b.Loop() {
		sinkN = CompareNames(x, y)
	}
}

// BenchmarkComparePrepared is the per-pair cost of a tenant run, where each
// account's name is prepared once; the pairs fall through to the fuzzy
// levels, the dearest path.
func BenchmarkComparePrepared(b *testing.B) {
	x, y := PrepareName(Name{"Robert", "Shackleford"}), PrepareName(Name{"Bob", "Shackelford"})
	for b.Loop() {
		sinkN = ComparePrepared(x, y)
	}
}

func BenchmarkCompareEmails(b *testing.B) {
	for b.Loop() {
		sinkE = CompareEmails("Martha.Jones+lms@gmail.com", "marhta.jones@example.org", EmailOptions{})
	}
}

var sinkP PreparedName

// BenchmarkPrepareNameAccented is the dearer preparation: a name outside
// ASCII goes through NFC, transliteration, case folding and NFD.
func BenchmarkPrepareNameAccented(b *testing.B) {
	for b.Loop() {
		sinkP = PrepareName(Name{"Jörg", "Müller-Nguyễn"})
	}
}
