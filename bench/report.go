package bench

import (
	"usermerge/match"

	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText writes a run's results as tables for people.
func WriteText(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "usermerge bench on %s: %s accounts; the heavy source holds %s sign-ins; %s merge records\n",
		r.Database, thousands(int64(r.Accounts)), thousands(int64(r.SignIns)), thousands(int64(r.Merges)))
	fmt.Fprintf(w, "loaded %s rows in %.1f s (%s rows/s)\n\n", thousands(r.Load.Rows), r.Load.Seconds, thousands(int64(r.Load.RowsPerSecond)))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tseconds\tcpu s\trows\trows/s\tvs bare\tcpu vs bare\t")
	bareCPU := r.step("bare").CPUSeconds
	bare := r.step("bare").Seconds
	for _, s := range r.Steps {
		ratio, cpuRatio, cpu := "", "", "-"
		if bare > 0 && s.Name != "preview" {
			ratio = fmt.Sprintf("%.2f×", s.Seconds/bare)
		}
		if s.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.2f", s.CPUSeconds)
			if bareCPU > 0 && s.Name != "preview" {
				cpuRatio = fmt.Sprintf("%.2f×", s.CPUSeconds/bareCPU)
			}
		}
		name := s.Name
		switch s.Name {
		case "preview":
			name = fmt.Sprintf("preview (median of %d)", r.PreviewRuns)
		case "bare":
			name = "bare baseline"
		}
		fmt.Fprintf(tw, "%s\t%.3f\t%s\t%s\t%s\t%s\t%s\t\n", name, s.Seconds, cpu, thousands(s.Rows), thousands(int64(s.RowsPerSecond)), ratio, cpuRatio)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nmerge / bare = %.2f   revert / bare = %.2f", r.MergeBare, r.RevertBare)
	if r.MergeBareCPU > 0 {
		fmt.Fprintf(w, "   (CPU time: %.2f and %.2f)", r.MergeBareCPU, r.RevertBareCPU)
	}
	fmt.Fprintln(w)
	if r.Memory.Supported {
		fmt.Fprintf(w, "peak memory of the process during the merge: %s RSS (%s at its start); Go heap peak %s\n",
			mib(r.Memory.PeakRSS), mib(r.Memory.BaseRSS), mib(r.Memory.PeakHeap))
	} else {
		fmt.Fprintf(w, "peak memory: not measurable on this system (no /proc); Go heap peak %s\n", mib(r.Memory.PeakHeap))
	}
	if len(r.List) > 0 {
		fmt.Fprintf(w, "\nmerge list, %s merges, first page of 50:\n", thousands(int64(r.Merges)))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "filter\tqueries\tp50 ms\tp95 ms\tmax ms\tmatches (median)\t")
		for _, l := range r.List {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%s\t\n", l.Filter, l.Queries, l.P50ms, l.P95ms, l.MaxMs, thousands(l.MedianTotal))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "\nchecked:")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// WriteDuplicatesText writes a duplicate-finding run's results for people.
func WriteDuplicatesText(w io.Writer, r *DuplicatesResult) error {
	q := r.Quality
	fmt.Fprintf(w, "usermerge bench duplicates on %s: %s accounts of %s persons (seed %d), %s true pairs\n",
		r.Database, thousands(int64(q.Accounts)), thousands(int64(q.Persons)), r.Seed, thousands(q.TruePairs))
	fmt.Fprintf(w, "generated in %.1f s; loaded %s rows in %.1f s (%s rows/s), not part of the detection\n\n",
		r.Generate.Seconds, thousands(r.Load.Rows), r.Load.Seconds, thousands(int64(r.Load.RowsPerSecond)))
	fmt.Fprintf(w, "detection (full run):   %.1f s\n", r.Detection.Seconds)
	if r.Memory.Supported {
		fmt.Fprintf(w, "peak RSS of the run:    %s (%s at its start), of which anonymous (not mapped database pages) %s; Go heap peak %s\n",
			mib(r.Memory.PeakRSS), mib(r.Memory.BaseRSS), mib(r.Memory.PeakAnon), mib(r.Memory.PeakHeap))
	} else {
		fmt.Fprintf(w, "peak RSS of the run:    not measurable on this system (no /proc); Go heap peak %s\n", mib(r.Memory.PeakHeap))
	}
	fmt.Fprintf(w, "blocking keys:          %s (%d oversized blocks split)\n", thousands(int64(r.Stats.BlockingKeys)), r.Stats.OversizedBlocks)
	fmt.Fprintf(w, "pairs compared:         %s (%s pairs/s); %s scored at or above possible\n",
		thousands(r.Stats.PairsCompared), thousands(int64(r.Detection.RowsPerSecond)), thousands(r.Stats.PairsScored))
	fmt.Fprintf(w, "blocking recall:        %.4f (%s of %s true pairs share a blocking key)\n", q.BlockingRecall, thousands(q.BlockedTruePairs), thousands(q.TruePairs))
	fmt.Fprintf(w, "suggestions:            %d certain, %d probable, %d possible\n\n",
		q.Suggestions[match.GradeCertain], q.Suggestions[match.GradeProbable], q.Suggestions[match.GradePossible])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "grades\tpairs suggested\ttrue\tprecision\trecall\t")
	for _, g := range q.Grades {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%.4f\t\n", g.Grades, thousands(g.Pairs), thousands(g.TruePositives), g.Precision, g.Recall)
	}
	tw.Flush()
	c := r.Check
	fmt.Fprintf(w, "\none-account check, %d existing accounts: p50 %.1f ms, p95 %.1f ms, max %.1f ms; a true duplicate named for %d of the %d that have one\n",
		c.Queries, c.P50ms, c.P95ms, c.MaxMs, c.Found, c.WithDuplicate)
	return nil
}
