package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/liboidc/liboidc/bindings/go"
)

// cgoStudy answers "why does a call into liboidc cost more process CPU from Go than the same
// loop in C": for pure C work of fixed lengths (no liboidc at all) and for liboidc's own calls,
// it compares n calls made in one C loop with n cgo calls from one goroutine locked to its
// thread, and splits the cgo loop's process CPU into the calling thread's and the other threads'
// (/proc/self/task/*/schedstat: the Go runtime's sysmon and the Ms woken by P hand-offs).
func cgoStudy() error {
	runtime.LockOSThread() // the calling thread is then one thread for the whole measurement
	defer runtime.UnlockOSThread()

	// Steps of spin per ns on this machine.
	t0 := threadCPU()
	spinLoop(1_000_000, 20)
	perNs := 20e6 / float64(threadCPU()-t0)

	key, err := newKey("RS256")
	if err != nil {
		return err
	}
	jwks := key.jwks()
	tok := key.sign(claims())
	rawFull, err := newRawClient(issuer, audience, jwks, 0)
	if err != nil {
		return err
	}
	defer rawFull.close()
	rawCached, err := newRawClient(issuer, audience, jwks, -1)
	if err != nil {
		return err
	}
	defer rawCached.close()
	full, err := oidc.NewClient(oidc.Config{Issuer: issuer, Audiences: []string{audience}, ExpectedTyp: "at+jwt",
		Algorithms: []string{"RS256"}, JWKSJSON: jwks, TokenCacheSize: oidc.TokenCacheOff})
	if err != nil {
		return err
	}
	defer full.Close()
	if err := rawFull.once(tok); err != nil {
		return err
	}

	type workload struct {
		name   string
		cLoop  func(n int) error // n calls inside one C call
		cgo    func() error      // one cgo call (or one binding call)
		approx time.Duration     // rough length of one call, to size a round
		// unlocked runs the cgo loop without LockOSThread (a locked goroutine's Gosched hands
		// its thread over twice); the calling thread's share is then not measured.
		unlocked bool
	}
	spinW := func(d time.Duration) workload {
		iters := uint64(float64(d.Nanoseconds()) * perNs)
		return workload{name: fmt.Sprintf("pure C spin %v", d), approx: d,
			cLoop: func(n int) error { spinLoop(iters, n); return nil },
			cgo:   func() error { spinOnce(iters); return nil }}
	}
	bg := context.Background()
	spin20 := spinW(20 * time.Microsecond)
	ws := []workload{
		spinW(100 * time.Nanosecond), spinW(time.Microsecond), spinW(5 * time.Microsecond),
		spinW(20 * time.Microsecond), spinW(40 * time.Microsecond),
		{name: "oidc_validate, cache off (raw cgo)", approx: 20 * time.Microsecond,
			cLoop: func(n int) error { return rawFull.loop(tok, n) }, cgo: func() error { return rawFull.once(tok) }},
		{name: "oidc_validate, cache on (raw cgo)", approx: 2 * time.Microsecond,
			cLoop: func(n int) error { return rawCached.loop(tok, n) }, cgo: func() error { return rawCached.once(tok) }},
		{name: "binding Validate, cache off", approx: 20 * time.Microsecond,
			cLoop: func(n int) error { return rawFull.loop(tok, n) }, cgo: func() error { _, err := full.Validate(bg, tok); return err }},
		// The same with a pass through the scheduler after each call: the goroutine's P then
		// shows progress (schedtick) to sysmon, which stops treating it as running too long.
		{name: "spin 20µs + runtime.Gosched()", approx: 20 * time.Microsecond, unlocked: true,
			cLoop: spin20.cLoop, cgo: func() error { _ = spin20.cgo(); runtime.Gosched(); return nil }},
		{name: "oidc_validate, cache off + Gosched", approx: 20 * time.Microsecond, unlocked: true,
			cLoop: func(n int) error { return rawFull.loop(tok, n) }, cgo: func() error { err := rawFull.once(tok); runtime.Gosched(); return err }},
		{name: "binding Validate, cache off + Gosched", approx: 20 * time.Microsecond, unlocked: true,
			cLoop: func(n int) error { return rawFull.loop(tok, n) },
			cgo:   func() error { _, err := full.Validate(bg, tok); runtime.Gosched(); return err }},
	}
	if *studyOnly != "" {
		var kept []workload
		for _, w := range ws {
			if strings.Contains(w.name, *studyOnly) {
				kept = append(kept, w)
			}
		}
		ws = kept
		if len(ws) == 0 {
			return fmt.Errorf("no study workload matches %q", *studyOnly)
		}
	}
	fmt.Printf("cgo study: GOMAXPROCS=%d, calling goroutine locked to its thread; ns per call, process CPU unless named\n", runtime.GOMAXPROCS(0))
	fmt.Printf("  %-36s %10s %10s %10s %12s %12s %10s\n", "workload", "C loop", "cgo loop", "extra", "calling thr", "other thrs", "other %")
	for _, w := range ws {
		n := int(time.Duration(*roundMS) * time.Millisecond / w.approx)
		if n < 1 {
			n = 1
		}
		var loopCPU, cgoCPU, callerCPU, otherCPU []float64
		for r := 0; r < *rounds; r++ {
			runtime.GC()
			p0 := processCPU()
			if err := w.cLoop(n); err != nil {
				return err
			}
			p1 := processCPU()
			if w.unlocked {
				runtime.UnlockOSThread()
			}
			p2, t2 := processCPU(), threadCPU()
			for i := 0; i < n; i++ {
				if err := w.cgo(); err != nil {
					return err
				}
			}
			p3, t3 := processCPU(), threadCPU()
			if w.unlocked {
				runtime.LockOSThread()
				t2, t3 = 0, 0 // not one thread: no split
			}
			loopCPU = append(loopCPU, float64(p1-p0)/float64(n))
			cgoCPU = append(cgoCPU, float64(p3-p2)/float64(n))
			callerCPU = append(callerCPU, float64(t3-t2)/float64(n))
			otherCPU = append(otherCPU, float64((p3-p2)-(t3-t2))/float64(n))
		}
		l, c, th, o := med(loopCPU), med(cgoCPU), med(callerCPU), med(otherCPU)
		if w.unlocked {
			fmt.Printf("  %-36s %10.0f %10.0f %+10.0f %12s %12s %10s\n", w.name, l, c, c-l, "-", "-", "-")
			continue
		}
		fmt.Printf("  %-36s %10.0f %10.0f %+10.0f %12.0f %12.0f %9.0f%%\n", w.name, l, c, c-l, th, o, 100*o/l)
	}
	// Where the other threads' time goes, for one workload (the 20 µs spin): per thread, CPU
	// and wake-ups.
	w := ws[min(3, len(ws)-1)]
	if w.unlocked {
		fmt.Println()
		return nil
	}
	n := int(time.Duration(*roundMS) * time.Millisecond / w.approx)
	before := threadStats()
	for i := 0; i < n; i++ {
		_ = w.cgo()
	}
	after := threadStats()
	self := fmt.Sprint(threadID())
	var lines []string
	for tid, a := range after {
		b := before[tid]
		if d := a.ns - b.ns; d > 0 {
			who := "other"
			if tid == self {
				who = "calling"
			}
			lines = append(lines, fmt.Sprintf("    thread %s (%s): %7.0f ns CPU and %.3f runs per call", tid, who,
				float64(d)/float64(n), float64(a.runs-b.runs)/float64(n)))
		}
	}
	sort.Strings(lines)
	fmt.Printf("  threads during %d cgo calls of %s:\n%s\n\n", n, w.name, strings.Join(lines, "\n"))
	return nil
}

type threadStat struct{ ns, runs int64 }

// threadStats reads every thread's CPU time and number of runs (/proc/self/task/*/schedstat).
func threadStats() map[string]threadStat {
	m := map[string]threadStat{}
	ents, _ := os.ReadDir("/proc/self/task")
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		var onCPU, waited, runs int64
		if _, err := fmt.Sscan(string(b), &onCPU, &waited, &runs); err == nil {
			m[e.Name()] = threadStat{onCPU, runs}
		}
	}
	return m
}

func threadID() int { return gettid() }

func med(x []float64) float64 {
	m, _ := median(x)
	return m
}
