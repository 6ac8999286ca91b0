package connectors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/schema"
)

func init() {
	Register(Spec{
		Kind: "kafka", Role: RoleSink,
		Summary:        "Writes JSON records to a Kafka topic: at least once with an idempotent producer, or exactly once with transactions committed when the checkpoint or savepoint that covers them is complete.",
		Offsets:        "with exactly_once, per subtask the transactional id, producer id, epoch and record count of its pre-committed transaction (\"<id>/producer_id\", \"<id>/epoch\", \"<id>/records\")",
		StoresPosition: func(option func(string) string) bool { return option("delivery") == "exactly_once" },
		Keys: []Key{
			kafkaBrokersKey,
			{Name: "topic", Type: TypeString, Required: true, Doc: "the topic written to"},
			{Name: "key", Type: TypePathOrFunction, Doc: "the record's Kafka key: a field path or a function e => … (omit: no key)"},
			{Name: "format", Type: TypeEnum, Enum: []string{"json"}, Default: "json", Doc: "the value is the record as JSON, fields in schema order"},
			{Name: "delivery", Type: TypeEnum, Enum: []string{"at_least_once", "exactly_once"}, Default: "at_least_once", Doc: "exactly_once needs checkpoint: in the pipeline and read_committed consumers"},
			{Name: "transactional_id", Type: TypeString, Default: "pipectl-<name>-<uid>", Doc: "exactly_once: the prefix of the subtasks' transactional ids (<prefix>-<subtask>); one live job owns a prefix"},
			{Name: "transaction_timeout", Type: TypeDuration, Default: "15m", Doc: "exactly_once: how long the broker keeps a transaction open; must exceed the checkpoint interval"},
			kafkaConnectTimeoutKey,
			kafkaTLSKey,
			kafkaSASLKey,
		},
		Check:   checkKafkaAuth,
		NewSink: func(cfg SinkConfig) (Sink, error) { return newKafkaSink(cfg) },
	})
}

// crashBeforeCommitEnv names the environment variable that, when set, makes the process kill
// itself (SIGKILL) right before an exactly_once Kafka sink commits the transaction of a
// complete snapshot: the crash window that a restore must close by committing it.
const crashBeforeCommitEnv = "PIPECTL_KAFKA_CRASH_BEFORE_COMMIT"

func init() {
	if os.Getenv(crashBeforeCommitEnv) != "" {
		KafkaFaultBeforeCommit = func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
}

// DefaultTransactionTimeout is a Kafka sink's transaction_timeout when it sets none.
const DefaultTransactionTimeout = 15 * time.Minute

// KafkaFaultBeforeCommit, when set, is called by an exactly_once Kafka sink right before it
// commits the transaction of a complete snapshot: tests crash the process there to check
// that a restore commits it.
var KafkaFaultBeforeCommit func()

// kafkaSink writes records to one topic.
//
// at_least_once: an idempotent producer; Committed waits until every record is acknowledged.
//
// exactly_once (two-phase commit): the subtask writes into a transaction under its
// transactional id <prefix>-<subtask>. When a snapshot takes the sink's part, the transaction
// is flushed (pre-committed) and its id, producer id, epoch and record count are the part;
// records written after that wait in memory. Once the snapshot is durable, SnapshotComplete
// commits the transaction and the waiting records go into the next one. The runtime never
// lets snapshots overlap (a savepoint asked for during a checkpoint starts once that one
// completed or failed). A snapshot that comes after one that failed extends the same
// transaction with the waiting records: it then covers all of it and commits it. Restore
// commits the transaction a
// restored snapshot recorded (it may have crashed between completion and commit) and aborts
// every other one left open under the prefix.
type kafkaSink struct {
	cfg   SinkConfig
	topic string
	t     *schema.Type
	exact bool
	txnID string // exactly_once: this subtask's transactional id
	cl    *kgo.Client
	errs  kafkaErrors

	errMu   sync.Mutex               // guards err apart from mu: produce callbacks run while mu is held (Flush)
	err     error                    // the first failed produce
	promise func(*kgo.Record, error) // s.produced

	mu      sync.Mutex
	arena   recordArena // the records produced, and their bytes
	scratch []byte      // where a record's value and key are encoded before the arena copies them
	open    bool        // exactly_once: a transaction is open
	n       int64       // records produced into the open transaction
	snapN   int64       // n when a snapshot last took the open transaction; -1: none did
	held    []*kgo.Record
	// published: the producer has published the topic's partitions (awaitTopicPublished)
	published bool
}

func newKafkaSink(cfg SinkConfig) (*kafkaSink, error) {
	if cfg.Type == nil {
		return nil, errors.New("no input type")
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 1
	}
	s := &kafkaSink{cfg: cfg, topic: cfg.Options.String("topic", ""), t: cfg.Type,
		exact: cfg.Options.String("delivery", "at_least_once") == "exactly_once", snapN: -1}
	s.promise = s.produced
	if s.topic == "" {
		return nil, errors.New("no topic")
	}
	s.errs.logf = cfg.Logf
	opts, err := kafkaClientOpts(cfg.Options, &s.errs)
	if err != nil {
		return nil, err
	}
	// Snappy (none for a broker that lacks it): cheap both ways and known to every broker.
	opts = append(opts, kgo.DefaultProduceTopic(s.topic), kgo.RecordDeliveryTimeout(2*time.Minute), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.SnappyCompression(), kgo.NoCompression()), kgo.AllowAutoTopicCreation())
	if s.exact {
		s.txnID = fmt.Sprintf("%s-%d", s.prefix(), cfg.Subtask)
		opts = append(opts, kgo.TransactionalID(s.txnID),
			kgo.TransactionTimeout(cfg.Options.Duration("transaction_timeout", DefaultTransactionTimeout)))
	}
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, err
	}
	if err := connectKafka(s.cl, cfg.Options); err != nil {
		s.cl.Close()
		return nil, err
	}
	if err := ensureTopic(s.cl, s.topic, cfg.Options); err != nil {
		s.cl.Close()
		return nil, err
	}
	return s, nil
}

// ensureTopic makes sure the sink's topic exists before anything is produced, as a Kafka
// producer does: a missing topic is created on first use where the brokers allow it
// (auto.create.topics.enable, Kafka's default); where they do not, the job fails at its start
// naming the topic, not after the first delivery timeout.
func ensureTopic(cl *kgo.Client, topic string, o Options) error {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	// Retried: a topic being created (LEADER_NOT_AVAILABLE), or a broker between two states.
	return untilKafka(o, "topic "+strings.ReplaceAll(topic, "%", "%%")+" is not ready on the Kafka brokers %s within connect_timeout %s: %v", func(ctx context.Context) error {
		resp, err := req.RequestWith(ctx, cl)
		if err == nil && len(resp.Topics) == 1 {
			err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
		}
		if err == nil && (len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) == 0) {
			err = errors.New("it has no partitions yet")
		}
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return &final{fmt.Errorf("topic %s does not exist on the Kafka brokers %s, and they do not create topics on first use: create it (kafka-topics.sh --create, rpk topic create)",
				topic, strings.Join(o.Strings("brokers"), ", "))}
		}
		return err
	})
}

// Errors implements ErrorCounter: the broker errors the producer retried.
func (s *kafkaSink) Errors() int64 { return s.errs.n.Load() }

// prefix is the transactional id prefix: transactional_id, else pipectl-<name>-<uid>.
func (s *kafkaSink) prefix() string {
	return s.cfg.Options.String("transactional_id", "pipectl-"+s.cfg.Pipeline+"-"+s.cfg.UID)
}

func (s *kafkaSink) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// record encodes rec as a Kafka record, in the sink's arena (its caller holds mu).
func (s *kafkaSink) record(rec any) (*kgo.Record, error) {
	var err error
	if s.scratch, err = s.t.AppendJSON(s.scratch[:0], rec); err != nil {
		return nil, fmt.Errorf("sink %q: %w", s.cfg.UID, err)
	}
	r := s.arena.record()
	r.Value = s.arena.copy(s.scratch)
	if s.cfg.Key != nil {
		k, err := s.cfg.Key(rec)
		if err != nil {
			return nil, fmt.Errorf("sink %q: key: %w", s.cfg.UID, err)
		}
		if k != nil {
			if s.scratch, err = appendKey(s.scratch[:0], k); err != nil {
				return nil, fmt.Errorf("sink %q: key: %w", s.cfg.UID, err)
			}
			r.Key = s.arena.copy(s.scratch)
		}
	}
	return r, nil
}

// appendKey renders a key that is not nil: strings and bytes as they are, integers in
// decimal, the rest as JSON.
func appendKey(dst []byte, k any) ([]byte, error) {
	switch v := k.(type) {
	case string:
		return append(dst, v...), nil
	case []byte:
		return append(dst, v...), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	}
	return appendJSON(dst, k)
}

func (s *kafkaSink) Write(rec any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failure(); err != nil {
		return err
	}
	r, err := s.record(rec)
	if err != nil {
		return err
	}
	if !s.exact {
		s.produce(r)
		return nil
	}
	if s.open && s.snapN == s.n {
		s.held = append(s.held, r) // the open transaction waits for its snapshot to complete
		return nil
	}
	if err := s.beginLocked(); err != nil {
		return err
	}
	s.produce(r)
	s.n++
	return nil
}

// produce sends r; a failure is kept for the next Write or Committed.
func (s *kafkaSink) produce(r *kgo.Record) {
	s.cl.Produce(context.Background(), r, s.promise)
}

// produced is the promise of every produced record (made once: a method value per record
// would be an allocation per record).
func (s *kafkaSink) produced(_ *kgo.Record, err error) {
	if err != nil {
		s.errMu.Lock()
		if s.err == nil {
			s.err = Retryable(fmt.Errorf("sink %q: produce to %s: %w", s.cfg.UID, s.topic, err))
		}
		s.errMu.Unlock()
	}
}

// failure is the first failed produce (nil: none).
func (s *kafkaSink) failure() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// beginLocked opens a transaction unless one is open.
func (s *kafkaSink) beginLocked() error {
	if s.open {
		return nil
	}
	if err := s.cl.BeginTransaction(); err != nil {
		return Retryable(fmt.Errorf("sink %q: begin transaction %s: %w", s.cfg.UID, s.txnID, err))
	}
	s.open, s.n, s.snapN = true, 0, -1
	return nil
}

// Flush does nothing: the producer sends records on its own.
func (s *kafkaSink) Flush() error { return nil }

// flush waits until every produced record is acknowledged.
func (s *kafkaSink) flush() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.cl.Flush(ctx); err != nil {
		return Retryable(fmt.Errorf("sink %q: flush: %w", s.cfg.UID, err))
	}
	return s.failure()
}

// Committed waits for every record to be acknowledged; with exactly_once it pre-commits the
// open transaction (records held back go into it first) and returns what identifies it.
func (s *kafkaSink) Committed() (Offsets, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.exact {
		return nil, s.flush()
	}
	if len(s.held) > 0 {
		if err := s.beginLocked(); err != nil {
			return nil, err
		}
		for _, r := range s.held {
			s.produce(r)
		}
		s.n += int64(len(s.held))
		s.held = nil
	}
	if !s.open {
		return nil, nil
	}
	if err := s.flush(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.awaitTopicPublished(ctx); err != nil {
		return nil, err
	}
	pid, epoch, err := s.cl.ProducerID(ctx)
	if err != nil {
		return nil, Retryable(fmt.Errorf("sink %q: producer id of %s: %w", s.cfg.UID, s.txnID, err))
	}
	s.snapN = s.n
	return Offsets{s.txnID + "/producer_id": pid, s.txnID + "/epoch": int64(epoch), s.txnID + "/records": s.n}, nil
}

// awaitTopicPublished waits until the producer has published the partitions of the sink's
// topic. A new client sends its first records of a topic from the metadata update that
// loads the topic, a moment before that update publishes the partitions; a commit in
// between finds no partition in the transaction, and franz-go then aborts the transaction
// instead of committing it, with no error. Committed calls this before it hands out a
// transaction, so the commit of a snapshot always sees the partitions.
func (s *kafkaSink) awaitTopicPublished(ctx context.Context) error {
	for !s.published {
		leader, _, err := s.cl.PartitionLeader(s.topic, 0)
		if leader >= 0 || err != nil { // err: published, with the partition's load error
			s.published = true
			break
		}
		select {
		case <-ctx.Done():
			return Retryable(fmt.Errorf("sink %q: the partitions of topic %s are not loaded: %w", s.cfg.UID, s.topic, ctx.Err()))
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// SnapshotComplete commits the open transaction when o (the part this sink gave a snapshot
// that is now durable) covers all of it, then sends the records held back meanwhile into a
// new one.
func (s *kafkaSink) SnapshotComplete(o Offsets) error {
	if !s.exact {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := o[s.txnID+"/records"]
	if !ok || !s.open || n != s.n || s.snapN != s.n {
		return nil // nothing of this snapshot is open, or a later snapshot extended it
	}
	if KafkaFaultBeforeCommit != nil {
		KafkaFaultBeforeCommit()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return Retryable(fmt.Errorf("sink %q: commit transaction %s: %w", s.cfg.UID, s.txnID, err))
	}
	s.open, s.n, s.snapN = false, 0, -1
	if len(s.held) == 0 {
		return nil
	}
	if err := s.beginLocked(); err != nil {
		return err
	}
	for _, r := range s.held {
		s.produce(r)
	}
	s.n = int64(len(s.held))
	s.held = nil
	return nil
}

// Restore recovers the transactions of a previous run (exactly_once, done by subtask 0 for
// all subtasks): it commits every transaction o recorded, warning about one the broker no
// longer holds, and aborts every other transaction left open under the prefix.
func (s *kafkaSink) Restore(o Offsets) error {
	if !s.exact || s.cfg.Subtask != 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	recorded := recordedTxns(o)
	for _, id := range slices.Sorted(maps.Keys(recorded)) {
		if err := s.commitRecorded(ctx, id, recorded[id]); err != nil {
			return err
		}
	}
	return s.abortOpen(ctx)
}

// txnRef identifies a pre-committed transaction.
type txnRef struct {
	producerID int64
	epoch      int16
}

// recordedTxns reads the transactions of a sink's state.
func recordedTxns(o Offsets) map[string]txnRef {
	out := map[string]txnRef{}
	for k, v := range o {
		if id, ok := strings.CutSuffix(k, "/producer_id"); ok {
			out[id] = txnRef{producerID: v, epoch: int16(o[id+"/epoch"])}
		}
	}
	return out
}

// commitRecorded commits a recorded transaction with a raw EndTxn under its producer id and
// epoch, as Flink's KafkaSink does on recovery.
func (s *kafkaSink) commitRecorded(ctx context.Context, id string, t txnRef) error {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, t.producerID, t.epoch, true
	resp, err := req.RequestWith(ctx, s.cl)
	if err != nil {
		return Retryable(fmt.Errorf("sink %q: commit recorded transaction %s: %w", s.cfg.UID, id, err))
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		s.logf("sink %q: the recorded transaction %s (producer id %d, epoch %d) is no longer held by the broker (already committed, or expired): %v",
			s.cfg.UID, id, t.producerID, t.epoch, err)
		return nil
	}
	s.logf("sink %q: committed the recorded transaction %s (producer id %d, epoch %d)", s.cfg.UID, id, t.producerID, t.epoch)
	return nil
}

// abortOpen aborts every open transaction whose id is <prefix>-<n>, by initializing a
// producer under its id (which fences the old producer and aborts its transaction).
func (s *kafkaSink) abortOpen(ctx context.Context) error {
	adm := kadm.NewClient(s.cl)
	txns, err := adm.ListTransactions(ctx, nil, []string{"Ongoing"})
	if err != nil {
		s.logf("sink %q: cannot list open transactions (%v): only the subtasks' own ids are fenced", s.cfg.UID, err)
		return nil
	}
	prefix := s.prefix() + "-"
	for _, t := range txns.Sorted() {
		rest, ok := strings.CutPrefix(t.TxnID, prefix)
		if _, err := strconv.Atoi(rest); !ok || err != nil {
			continue
		}
		if err := s.fence(ctx, t.TxnID); err != nil {
			return err
		}
		s.logf("sink %q: aborted the open transaction %s of a previous run", s.cfg.UID, t.TxnID)
	}
	return nil
}

// fence initializes a producer for a transactional id, aborting its open transaction.
func (s *kafkaSink) fence(ctx context.Context, id string) error {
	timeout := s.cfg.Options.Duration("transaction_timeout", DefaultTransactionTimeout)
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = int32(timeout.Milliseconds())
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, s.cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, kerr.ConcurrentTransactions) {
			return Retryable(fmt.Errorf("sink %q: abort open transaction %s: %w", s.cfg.UID, id, err))
		}
		select {
		case <-ctx.Done():
			return Retryable(fmt.Errorf("sink %q: abort open transaction %s: %w", s.cfg.UID, id, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Discard aborts what no complete snapshot covers (a canceled job): the open transaction,
// pre-committed or not, and the records held back.
func (s *kafkaSink) Discard() error {
	if !s.exact {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = nil
	return s.abortLocked()
}

// abortLocked aborts the open transaction.
func (s *kafkaSink) abortLocked() error {
	if !s.open {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.open = false
	if err := s.cl.AbortBufferedRecords(ctx); err != nil {
		return fmt.Errorf("sink %q: abort transaction %s: %w", s.cfg.UID, s.txnID, err)
	}
	if err := s.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		return fmt.Errorf("sink %q: abort transaction %s: %w", s.cfg.UID, s.txnID, err)
	}
	return nil
}

// Close ends the sink. at_least_once: every record is acknowledged first. exactly_once: a
// transaction no snapshot took is aborted; a pre-committed one is left to the next run,
// whose restore commits it when a complete snapshot recorded it.
func (s *kafkaSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.cl.Close()
	if !s.exact {
		return s.flush()
	}
	if s.open && s.snapN < 0 {
		return s.abortLocked()
	}
	return nil
}
