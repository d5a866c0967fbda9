package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/breachnotice/breachnotice/internal/breach"
)

// taskSend is the asynq task type of sendTask.
const taskSend = "send"

// sendTask asks a worker to send the due queued deliveries of one channel of a campaign whose
// recipient IDs are in [Low, High). It carries IDs only: the record is in PostgreSQL, and a
// task run twice, or run after its deliveries were sent, claims nothing.
type sendTask struct {
	Campaign string         `json:"campaign"`
	Channel  breach.Channel `json:"channel"`
	Low      int64          `json:"low"`
	High     int64          `json:"high"`
}

// Kind is the task's asynq type.
func (sendTask) Kind() string { return taskSend }

// chunkTask is the task covering chunk k of a grid of the given size.
func chunkTask(campaign string, ch breach.Channel, size, k int64) sendTask {
	return sendTask{Campaign: campaign, Channel: ch, Low: k * size, High: (k + 1) * size}
}

// id is the task's stable asynq ID: while a task with this ID waits in the queue, enqueueing
// it again is refused, which is how the reconciler tells covered work from lost work.
func (t sendTask) id() string {
	return fmt.Sprintf("send:%s:%s:%d-%d", t.Campaign, t.Channel, t.Low, t.High)
}

// queue is the asynq queue of a channel: one per channel, so that a million emails waiting do
// not hold up the SMS.
func queue(ch breach.Channel) string { return queuePrefix + string(ch) }

// queuePrefix starts the name of every queue of ours.
const queuePrefix = "breachnotice:"

// enqueue puts t on its queue. With stable set it carries its stable ID and an enqueue refused
// because that task is already queued is not an error; otherwise (retries, fallbacks) it is
// anonymous. at is when it may run (zero: now).
func (e *Engine) enqueue(ctx context.Context, t sendTask, stable bool, at time.Time) error {
	payload, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode task: %w", err)
	}
	opts := []asynq.Option{asynq.Queue(queue(t.Channel)), asynq.MaxRetry(e.cfg.TaskRetries), asynq.Timeout(e.cfg.TaskTimeout)}
	if stable {
		opts = append(opts, asynq.TaskID(t.id()))
	}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err = e.client.EnqueueContext(ctx, asynq.NewTask(taskSend, payload), opts...)
	if stable && errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.id(), err)
	}
	return nil
}

// enqueueRange enqueues the stable chunk tasks covering recipient IDs low to high (inclusive)
// on channel ch.
func (e *Engine) enqueueRange(ctx context.Context, campaign string, ch breach.Channel, low, high int64) error {
	size := e.cfg.ChunkSize
	for k := low / size; k <= high/size; k++ {
		if err := e.enqueue(ctx, chunkTask(campaign, ch, size, k), true, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}

// enqueueIDs enqueues anonymous tasks covering the given recipient IDs on channel ch, one per
// chunk they fall in, to run at at.
func (e *Engine) enqueueIDs(ctx context.Context, campaign string, ch breach.Channel, ids []int64, at time.Time) error {
	size := e.cfg.ChunkSize
	seen := map[int64]bool{}
	for _, id := range ids {
		k := id / size
		if seen[k] {
			continue
		}
		seen[k] = true
		if err := e.enqueue(ctx, chunkTask(campaign, ch, size, k), false, at); err != nil {
			return err
		}
	}
	return nil
}
