package synth

import "testing"

// BenchmarkGenerate300k measures the generator at 300,000 accounts
// (`go test ./match/synth -bench Generate -benchtime 1x`).
func BenchmarkGenerate300k(b *testing.B) {
	for b.Loop() {
		Generate(Config{Accounts: 300_000, Seed: 1})
	}
}
