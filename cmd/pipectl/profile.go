package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// Profiling the real binary: PIPECTL_CPUPROFILE=FILE writes a CPU profile of the whole
// process, PIPECTL_HEAPPROFILE=FILE a heap profile every heapProfileEvery while the command
// runs (each replaces the last, so the file shows the heap shortly before the end, while the
// job still holds its state). They are for measuring pipectl itself (docs/PERFORMANCE.md), not
// for users' jobs, and cost nothing when unset.

// heapProfileEvery is how often PIPECTL_HEAPPROFILE is rewritten.
const heapProfileEvery = 2 * time.Second

// startProfiles starts what the environment asks for and returns the function that ends it.
func startProfiles() (stop func()) {
	var stops []func()
	if path := os.Getenv("PIPECTL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: PIPECTL_CPUPROFILE: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("PIPECTL_HEAPPROFILE"); path != "" {
		done := make(chan struct{})
		go writeHeapProfiles(path, done)
		stops = append(stops, func() { close(done) })
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// writeHeapProfiles rewrites the heap profile at path until done closes.
func writeHeapProfiles(path string, done <-chan struct{}) {
	tk := time.NewTicker(heapProfileEvery)
	defer tk.Stop()
	for {
		select {
		case <-done:
			return
		case <-tk.C:
		}
		tmp := path + ".tmp"
		f, err := os.Create(tmp)
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: PIPECTL_HEAPPROFILE: %v\n", err)
			return
		}
	}
}
