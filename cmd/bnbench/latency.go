package main

import (
	"context"
	"fmt"
	"time"
)

// The first notice: how long after an operator starts a large campaign does its first notice
// reach the relay? The campaign is imported and approved and a worker is running, idle, as it
// would be in production; the time runs from just before `campaign start` is executed to the
// moment the sink, in its own process on the same clock, accepted its first message.

// benchFirstNotice measures the first notice's delay on a campaign of n recipients, then
// cancels the campaign: its other notices are not the point.
func (b *bench) benchFirstNotice(ctx context.Context, dbURL string, n int) error {
	progress("setting up a campaign of %d recipients", n)
	id, err := b.approvedCampaign(ctx, dbURL, n, 3)
	if err != nil {
		return err
	}
	sink, err := startSink(0)
	if err != nil {
		return err
	}
	defer sink.Close()
	w, err := b.startWorker(ctx, dbURL, sink.SMTPURL())
	if err != nil {
		return err
	}
	defer w.Stop()

	progress("starting the campaign of %d recipients", n)
	start := time.Now()
	if _, err := b.runBin(ctx, dbURL, "campaign", "start", id); err != nil {
		return err
	}
	returned := time.Since(start)
	first, err := waitFirst(sink, w, time.Minute)
	if err != nil {
		return err
	}
	delay := first.first().Sub(start)
	// What had left by the target's deadline, to show the first notice is not a lone one.
	time.Sleep(time.Until(start.Add(targetFirstDelay)))
	by, err := sink.Stats()
	if err != nil {
		return err
	}
	problems := w.Problems() // before the cancellation's own
	if _, err := b.runBin(ctx, dbURL, "campaign", "cancel", id); err != nil {
		return err
	}
	rss, err := w.Stop()
	if err != nil {
		return err
	}

	fmt.Printf("\nstart       %d-recipient campaign: first notice at the sink %.3f s after `campaign start` = %.2f × the %.0f s ceiling\n",
		n, delay.Seconds(), delay.Seconds()/targetFirstDelay.Seconds(), targetFirstDelay.Seconds())
	fmt.Printf("            (`campaign start` itself returned after %.3f s; %d notices at the sink %.0f s after start)\n",
		returned.Seconds(), by.Count, targetFirstDelay.Seconds())
	fmt.Printf("worker log  %s\n", problems)
	fmt.Printf("peak RSS    worker, planning %d deliveries: %d MB = %.2f × the %d MB ceiling\n",
		n, rss/1024, float64(rss)/1024/targetWorkerRSS, targetWorkerRSS)
	return nil
}

// waitFirst polls the sink until it has accepted a message.
func waitFirst(sink *sinkProcess, w *workerProcess, timeout time.Duration) (sinkStats, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		s, err := sink.Stats()
		if err != nil || s.Count > 0 {
			return s, err
		}
		select {
		case <-w.exited:
			return s, fmt.Errorf("worker exited before the first notice:%s", w.Log())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return sinkStats{}, fmt.Errorf("no notice at the sink %s after start; worker log:%s", timeout, w.Log())
}
