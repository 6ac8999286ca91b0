package connectors

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/schema"
)

func init() {
	Register(Spec{
		Kind: "kafka", Role: RoleSource, Replayable: true,
		Summary: "Reads the partitions of Kafka topics (read_committed), spread over the source's subtasks; a restore resumes every partition at its stored offset.",
		Offsets: "the next offset of each partition, keyed \"<topic>/<partition>\"",
		Keys: []Key{
			kafkaBrokersKey,
			{Name: "topics", Type: TypeStringList, Doc: "the topics to read (or topic_pattern)"},
			{Name: "topic_pattern", Type: TypeString, Doc: "a regular expression: every topic whose whole name matches is read; checked again every discovery_interval"},
			{Name: "discovery_interval", Type: TypeDuration, Default: "10s", Doc: "how often new partitions and matching topics are looked for (unbounded sources)"},
			{Name: "format", Type: TypeEnum, Enum: []string{"json", "string", "bytes"}, Default: "json", Doc: "json: the value is a JSON object of the schema; string, bytes: the record is {value: …} plus metadata"},
			{Name: "start", Type: TypeString, Default: "earliest", Doc: "where a source without stored offsets begins: earliest, latest, or an RFC 3339 time"},
			{Name: "bounded", Type: TypeBool, Default: "false", Doc: "read up to the last stable offsets found at start, then finish"},
			{Name: "metadata", Type: TypeObject, Doc: "Kafka metadata into declared schema fields", Keys: []Key{
				{Name: "key", Type: TypeString, Doc: "field for the record key (string or bytes, optional)"},
				{Name: "topic", Type: TypeString, Doc: "field for the topic (string)"},
				{Name: "partition", Type: TypeString, Doc: "field for the partition (int)"},
				{Name: "offset", Type: TypeString, Doc: "field for the offset (int)"},
				{Name: "timestamp", Type: TypeString, Doc: "field for the Kafka timestamp (int, epoch ms)"},
				{Name: "headers", Type: TypeString, Doc: "field for the headers (map<string, string>)"},
			}},
			{Name: "group", Type: TypeString, Doc: "a consumer group the offsets are committed to after each completed checkpoint or savepoint, for lag monitoring only (never read back)"},
			{Name: "offset_out_of_range", Type: TypeEnum, Enum: []string{"fail", "earliest", "latest"}, Default: "fail", Doc: "what a stored offset the cluster no longer holds does: fail the job naming both offsets, or go on at the earliest or latest offset"},
			kafkaConnectTimeoutKey,
			kafkaTLSKey,
			kafkaSASLKey,
		},
		Check: checkKafkaSource,
		CheckInput: func(o Options, t *schema.Type) []OptionError {
			if _, err := kafkaDecoder(t, o.String("format", "json"), o.Object("metadata")); err != nil {
				key := "metadata"
				if strings.HasPrefix(err.Error(), "format") {
					key = "format"
				}
				return []OptionError{{Key: key, Msg: err.Error()}}
			}
			return nil
		},
		NewSource: func(cfg SourceConfig) (Source, error) { return newKafkaSource(cfg) },
	})
}

// checkKafkaSource validates the options of a kafka source that go together.
func checkKafkaSource(o Options) []OptionError {
	var errs []OptionError
	_, topics := o["topics"]
	_, pattern := o["topic_pattern"]
	switch {
	case topics && pattern:
		errs = append(errs, OptionError{Key: "topic_pattern", Msg: "topics and topic_pattern exclude each other"})
	case !topics && !pattern:
		errs = append(errs, OptionError{Msg: "a kafka source needs topics or topic_pattern"})
	}
	if p, ok := o["topic_pattern"].(string); ok {
		if _, err := compileTopicPattern(p); err != nil {
			errs = append(errs, OptionError{Key: "topic_pattern", Msg: err.Error()})
		}
	}
	if s, ok := o["start"].(string); ok {
		if _, err := parseKafkaStart(s); err != nil {
			errs = append(errs, OptionError{Key: "start", Msg: err.Error()})
		}
	}
	if d, ok := o["discovery_interval"].(time.Duration); ok && d <= 0 {
		errs = append(errs, OptionError{Key: "discovery_interval", Msg: "discovery_interval must be positive"})
	}
	return append(errs, checkKafkaAuth(o)...)
}

// compileTopicPattern compiles a topic_pattern that must match a whole topic name.
func compileTopicPattern(p string) (*regexp.Regexp, error) {
	re, err := regexp.Compile("^(?:" + p + ")$")
	if err != nil {
		return nil, fmt.Errorf("topic_pattern %q: %w", p, err)
	}
	return re, nil
}

// kafkaStart is where a fresh partition begins: earliest (at -2), latest (at -1), or the first
// offset at or after a time (ms >= 0).
type kafkaStart struct{ ms int64 }

const (
	startEarliest = -2
	startLatest   = -1
)

// parseKafkaStart parses a start option.
func parseKafkaStart(s string) (kafkaStart, error) {
	switch s {
	case "", "earliest":
		return kafkaStart{startEarliest}, nil
	case "latest":
		return kafkaStart{startLatest}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return kafkaStart{}, fmt.Errorf("start %q: want earliest, latest or an RFC 3339 time (2024-05-01T00:00:00Z)", s)
	}
	return kafkaStart{t.UnixMilli()}, nil
}

// topicPartition names one partition.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string { return tp.topic + "/" + strconv.Itoa(int(tp.partition)) }

// parseTopicPartition reads an offsets key "<topic>/<partition>".
func parseTopicPartition(k string) (topicPartition, bool) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return topicPartition{}, false
	}
	p, err := strconv.ParseInt(k[i+1:], 10, 32)
	if err != nil {
		return topicPartition{}, false
	}
	return topicPartition{k[:i], int32(p)}, true
}

// comparePartitions orders partitions by (topic, partition).
func comparePartitions(a, b topicPartition) int {
	if c := strings.Compare(a.topic, b.topic); c != 0 {
		return c
	}
	return int(a.partition) - int(b.partition)
}

// kafkaSource reads one subtask's share of the partitions of its topics.
//
// Split: the partitions known at start, sorted by (topic, partition), go to subtask i mod
// parallelism by their index i; partitions discovered later are appended in that order, so
// running ones never move.
//
// Position: next offset per partition, moved past a record once its Emit returned nil (and
// past control records, which are never emitted). Restore takes the offsets of all subtasks
// merged; Offsets reports this subtask's partitions.
type kafkaSource struct {
	cfg     SourceConfig
	o       Options
	topics  []string
	pattern *regexp.Regexp
	start   kafkaStart
	decode  func(r *kgo.Record) (any, error)

	mu       sync.Mutex
	restored Offsets // nil: a fresh start
	known    map[topicPartition]bool
	count    int                       // partitions known (the index of the next discovered one)
	parts    map[topicPartition]*kPart // this subtask's partitions; nil before Run
	errs     kafkaErrors

	groupMu sync.Mutex  // guards groupCl apart from mu: a commit must not hold the reading back
	groupCl *kgo.Client // commits offsets to the group; made by the first SnapshotComplete
}

// kPart is the reading state of one partition.
type kPart struct {
	name string       // "<topic>/<partition>": its offsets key and its split's name
	next atomic.Int64 // moved by the reading goroutine only; read by Offsets from any
	stop int64        // bounded: the offset where the partition is done; -1 unbounded
}

func newKafkaSource(cfg SourceConfig) (*kafkaSource, error) {
	if cfg.Schema == nil {
		return nil, errors.New("no schema")
	}
	s := &kafkaSource{cfg: cfg, o: cfg.Options, topics: cfg.Options.Strings("topics")}
	if p, ok := cfg.Options["topic_pattern"].(string); ok {
		re, err := compileTopicPattern(p)
		if err != nil {
			return nil, err
		}
		s.pattern = re
	}
	if len(s.topics) == 0 && s.pattern == nil {
		return nil, errors.New("no topics or topic_pattern")
	}
	st, err := parseKafkaStart(cfg.Options.String("start", "earliest"))
	if err != nil {
		return nil, err
	}
	s.start = st
	if s.decode, err = kafkaDecoder(cfg.Schema, cfg.Options.String("format", "json"), cfg.Options.Object("metadata")); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *kafkaSource) Bounded() bool { return s.o.Bool("bounded", false) }

// Restore keeps the stored offsets; Run resumes every partition of this subtask there (a
// partition they lack starts at earliest).
func (s *kafkaSource) Restore(o Offsets) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restored = Offsets{}
	for k, v := range o {
		if _, ok := parseTopicPartition(k); !ok {
			return fmt.Errorf("restore: offset key %q is not <topic>/<partition>", k)
		}
		s.restored[k] = v
	}
	return nil
}

// Offsets returns {"<topic>/<partition>": next offset} of this subtask's partitions (before
// Run: the restored offsets).
func (s *kafkaSource) Offsets() Offsets {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.parts == nil {
		return maps.Clone(s.restored)
	}
	o := make(Offsets, len(s.parts))
	for _, p := range s.parts {
		o[p.name] = p.next.Load()
	}
	return o
}

// SnapshotComplete commits the offsets of a durable snapshot to the group, when there is one
// (for lag monitoring; a failure is logged by the runtime, never fatal). Its client is its
// own: the final checkpoint of a finished job completes after Run has returned.
func (s *kafkaSource) SnapshotComplete(o Offsets) error {
	group := s.o.String("group", "")
	if group == "" || len(o) == 0 {
		return nil
	}
	s.groupMu.Lock()
	defer s.groupMu.Unlock()
	if s.groupCl == nil {
		opts, err := kafkaClientOpts(s.o, &s.errs)
		if err != nil {
			return err
		}
		if s.groupCl, err = kgo.NewClient(opts...); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return commitGroup(ctx, kadm.NewClient(s.groupCl), group, o)
}

// Close closes the group's client.
func (s *kafkaSource) Close() error {
	s.groupMu.Lock()
	defer s.groupMu.Unlock()
	if s.groupCl != nil {
		s.groupCl.Close()
		s.groupCl = nil
	}
	return nil
}

// Errors implements ErrorCounter: the broker errors the consumer retried.
func (s *kafkaSource) Errors() int64 { return s.errs.n.Load() }

// pollWait is how long one poll waits for records before the source idles.
const pollWait = 50 * time.Millisecond

// The most one fetch of a subtask asks for, and per partition (compressed bytes; a batch
// larger than that still comes whole). The client decodes a fetch at once and keeps one
// more fetched ahead, so a fetch's decoded size is memory in flight: with the client's
// defaults (50MiB, 1MiB per partition) a well compressed topic came as hundreds of thousands
// of records per fetch, and the heap that held them cost more CPU (zeroing, page faults,
// collection) than reading them. Small fetches stay in the caches; one fetch buffered ahead
// keeps the broker busy meanwhile.
const (
	fetchMaxBytes          = 256 << 10
	fetchMaxPartitionBytes = 32 << 10
)

// Run reads this subtask's partitions until they are done (bounded) or the job stops.
func (s *kafkaSource) Run(ctx SourceContext) error {
	s.errs.logf = ctx.Logf
	opts, err := kafkaClientOpts(s.o, &s.errs)
	if err != nil {
		return err
	}
	reset := kgo.NoResetOffset()
	switch s.o.String("offset_out_of_range", "fail") {
	case "earliest":
		reset = kgo.NewOffset().AtStart()
	case "latest":
		reset = kgo.NewOffset().AtEnd()
	}
	opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(reset), kgo.FetchMaxWait(pollWait),
		kgo.FetchMaxBytes(fetchMaxBytes), kgo.FetchMaxPartitionBytes(fetchMaxPartitionBytes), kgo.WithPools(newKafkaPools()))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := connectKafka(cl, s.o); err != nil {
		return err
	}
	adm := kadm.NewClient(cl)
	all, err := s.discover(cl)
	if err != nil {
		return err
	}
	if err := s.assign(adm, all, s.restored != nil); err != nil {
		return err
	}
	s.consume(cl, s.mine(all), nil)
	s.declareSplits(ctx, s.mine(all))
	if sc, ok := ctx.(SplitContext); ok && len(s.mine(all)) == 0 {
		if err := sc.MarkIdle(); err != nil { // no partition: never hold the watermark back
			return err
		}
	}
	out := newKafkaEmitter(ctx)
	nextDiscovery := time.Now().Add(s.o.Duration("discovery_interval", 10*time.Second))
	for {
		if s.Bounded() && s.allDone() {
			return nil
		}
		if !s.Bounded() && time.Now().After(nextDiscovery) {
			if err := s.rediscover(adm, cl, ctx); err != nil {
				ctx.Logf("partition discovery: %v (retrying)", err)
			}
			nextDiscovery = time.Now().Add(s.o.Duration("discovery_interval", 10*time.Second))
		}
		pctx, cancel := context.WithTimeout(context.Background(), pollWait)
		fetches := cl.PollFetches(pctx)
		cancel()
		if err := s.fetchErrors(adm, fetches, ctx); err != nil {
			return err
		}
		n := 0
		var ferr error
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if ferr == nil {
				var k int
				k, ferr = s.emitPartition(out, cl, fp)
				n += k
			}
		})
		if ferr != nil {
			return ferr
		}
		if n == 0 {
			if err := ctx.Idle(); err != nil {
				return err
			}
		}
	}
}

// discover lists the partitions of the source's topics, sorted by (topic, partition). It asks
// the cluster each time (the client's metadata cache would hide new topics for a while).
func (s *kafkaSource) discover(cl *kgo.Client) ([]topicPartition, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.Duration("connect_timeout", defaultConnectTimeout))
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range s.topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, Retryable(fmt.Errorf("list topics: %w", err))
	}
	var out []topicPartition
	for _, td := range resp.Topics {
		if td.Topic == nil || (s.pattern != nil && (td.IsInternal || !s.pattern.MatchString(*td.Topic))) {
			continue
		}
		if err := kerr.ErrorForCode(td.ErrorCode); err != nil {
			return nil, fmt.Errorf("topic %q: %w", *td.Topic, err)
		}
		for _, p := range td.Partitions {
			out = append(out, topicPartition{*td.Topic, p.Partition})
		}
	}
	slices.SortFunc(out, comparePartitions)
	return out, nil
}

// assign records the partitions known at start, takes this subtask's share and sets where
// each begins: its stored offset (checked against what the cluster holds), earliest for a
// partition a restored source lacks, else start. Bounded sources learn where each stops.
func (s *kafkaSource) assign(adm *kadm.Client, all []topicPartition, restored bool) error {
	s.mu.Lock()
	s.known = map[topicPartition]bool{}
	for _, tp := range all {
		s.known[tp] = true
	}
	s.count = len(all)
	s.mu.Unlock()
	var mine []topicPartition
	for i, tp := range all {
		if i%s.cfg.Parallelism == s.cfg.Subtask {
			mine = append(mine, tp)
		}
	}
	return s.begin(adm, mine, restored)
}

// begin sets the start (and, bounded, the stop) offsets of new partitions of this subtask.
func (s *kafkaSource) begin(adm *kadm.Client, mine []topicPartition, restored bool) error {
	parts := map[topicPartition]*kPart{}
	if len(mine) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), s.o.Duration("connect_timeout", defaultConnectTimeout))
		defer cancel()
		topics := topicsOf(mine)
		first, err := adm.ListStartOffsets(ctx, topics...)
		if err != nil {
			return Retryable(fmt.Errorf("list offsets: %w", err))
		}
		end, err := adm.ListEndOffsets(ctx, topics...)
		if err != nil {
			return Retryable(fmt.Errorf("list offsets: %w", err))
		}
		var at kadm.ListedOffsets
		if !restored && s.start.ms >= 0 {
			if at, err = adm.ListOffsetsAfterMilli(ctx, s.start.ms, topics...); err != nil {
				return Retryable(fmt.Errorf("list offsets: %w", err))
			}
		}
		var stable kadm.ListedOffsets
		if s.Bounded() {
			if stable, err = adm.ListCommittedOffsets(ctx, topics...); err != nil {
				return Retryable(fmt.Errorf("list offsets: %w", err))
			}
		}
		for _, tp := range mine {
			lo, _ := first.Lookup(tp.topic, tp.partition)
			hi, _ := end.Lookup(tp.topic, tp.partition)
			if lo.Err != nil || hi.Err != nil {
				return fmt.Errorf("partition %s: %w", tp, errors.Join(lo.Err, hi.Err))
			}
			p := &kPart{name: tp.String(), stop: -1}
			s.mu.Lock()
			stored, ok := s.restored[p.name]
			s.mu.Unlock()
			switch {
			case ok:
				next, err := s.outOfRange(tp, stored, lo.Offset, hi.Offset)
				if err != nil {
					return err
				}
				p.next.Store(next)
			case restored || s.start.ms == startEarliest:
				p.next.Store(lo.Offset)
			case s.start.ms == startLatest:
				p.next.Store(hi.Offset)
			default:
				a, _ := at.Lookup(tp.topic, tp.partition)
				p.next.Store(a.Offset)
				if a.Err != nil || a.Offset < 0 {
					p.next.Store(hi.Offset)
				}
			}
			if s.Bounded() {
				st, _ := stable.Lookup(tp.topic, tp.partition)
				p.stop = st.Offset
			}
			parts[tp] = p
		}
	}
	s.mu.Lock()
	if s.parts == nil {
		s.parts = map[topicPartition]*kPart{}
	}
	for tp, p := range parts {
		s.parts[tp] = p
	}
	s.mu.Unlock()
	return nil
}

// outOfRange checks a stored offset against the offsets the cluster holds, [lo, hi]: out of
// that range it fails naming both, unless offset_out_of_range picks earliest or latest.
func (s *kafkaSource) outOfRange(tp topicPartition, stored, lo, hi int64) (int64, error) {
	if stored >= lo && stored <= hi {
		return stored, nil
	}
	switch s.o.String("offset_out_of_range", "fail") {
	case "earliest":
		return lo, nil
	case "latest":
		return hi, nil
	}
	return 0, fmt.Errorf("topic %s partition %d: stored offset %d is no longer held by the cluster (it holds offsets %d to %d; earliest is %d): set offset_out_of_range: earliest or latest to go on",
		tp.topic, tp.partition, stored, lo, hi, lo)
}

// topicsOf lists the distinct topics of partitions.
func topicsOf(tps []topicPartition) []string {
	var out []string
	for _, tp := range tps {
		if !slices.Contains(out, tp.topic) {
			out = append(out, tp.topic)
		}
	}
	return out
}

// mine returns the partitions of all that this subtask reads.
func (s *kafkaSource) mine(all []topicPartition) []topicPartition {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []topicPartition
	for _, tp := range all {
		if s.parts[tp] != nil {
			out = append(out, tp)
		}
	}
	return out
}

// consume starts fetching partitions at their next offsets (bounded: those not done yet).
func (s *kafkaSource) consume(cl *kgo.Client, tps []topicPartition, ctx SourceContext) {
	add := map[string]map[int32]kgo.Offset{}
	s.mu.Lock()
	for _, tp := range tps {
		p := s.parts[tp]
		if p.stop >= 0 && p.next.Load() >= p.stop {
			continue
		}
		if add[tp.topic] == nil {
			add[tp.topic] = map[int32]kgo.Offset{}
		}
		add[tp.topic][tp.partition] = kgo.NewOffset().At(p.next.Load())
	}
	s.mu.Unlock()
	if len(add) > 0 {
		cl.AddConsumePartitions(add)
	}
	if ctx != nil && len(tps) > 0 {
		ctx.Logf("reading %d new partitions from %s on", len(tps), tps[0])
	}
}

// rediscover looks for partitions that appeared since the last discovery: they are numbered
// on from the known ones in (topic, partition) order, and this subtask reads its share from
// earliest.
func (s *kafkaSource) rediscover(adm *kadm.Client, cl *kgo.Client, ctx SourceContext) error {
	all, err := s.discover(cl)
	if err != nil {
		return err
	}
	var fresh, mine []topicPartition
	s.mu.Lock()
	n := s.count
	for _, tp := range all {
		if s.known[tp] {
			continue
		}
		fresh = append(fresh, tp)
		if n%s.cfg.Parallelism == s.cfg.Subtask {
			mine = append(mine, tp)
		}
		n++
	}
	s.mu.Unlock()
	if len(mine) > 0 {
		if err := s.begin(adm, mine, true); err != nil {
			return err // none is known yet: the next discovery tries them all again
		}
	}
	s.mu.Lock()
	for _, tp := range fresh {
		s.known[tp] = true
	}
	s.count = n
	s.mu.Unlock()
	if len(mine) > 0 {
		s.consume(cl, mine, ctx)
		s.declareSplits(ctx, mine)
	}
	return nil
}

// declareSplits declares this subtask's partitions among tps that still have records to
// read as splits of the runtime (per-partition watermarks): a partition that has not
// delivered a record yet holds the watermark back, so that the records of the others are
// not taken as late before it has spoken.
func (s *kafkaSource) declareSplits(ctx SourceContext, tps []topicPartition) {
	sc, ok := ctx.(SplitContext)
	if !ok {
		return
	}
	var names []string
	s.mu.Lock()
	for _, tp := range tps {
		if p := s.parts[tp]; p != nil && (p.stop < 0 || p.next.Load() < p.stop) {
			names = append(names, p.name)
		}
	}
	s.mu.Unlock()
	sc.AddSplits(names...)
}

// allDone reports whether every partition of a bounded source reached its stop offset.
func (s *kafkaSource) allDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.parts {
		if p.next.Load() < p.stop {
			return false
		}
	}
	return true
}

// fetchErrors handles the errors of a poll: an offset out of range fails the job (when
// offset_out_of_range is fail), other errors are logged (the client retries them).
func (s *kafkaSource) fetchErrors(adm *kadm.Client, fetches kgo.Fetches, ctx SourceContext) error {
	for _, fe := range fetches.Errors() {
		if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
			continue
		}
		if errors.Is(fe.Err, kerr.OffsetOutOfRange) {
			tp := topicPartition{fe.Topic, fe.Partition}
			s.mu.Lock()
			next := int64(-1)
			if p := s.parts[tp]; p != nil {
				next = p.next.Load()
			}
			s.mu.Unlock()
			lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			lo, _ := adm.ListStartOffsets(lctx, tp.topic)
			hi, _ := adm.ListEndOffsets(lctx, tp.topic)
			cancel()
			l, _ := lo.Lookup(tp.topic, tp.partition)
			h, _ := hi.Lookup(tp.topic, tp.partition)
			_, err := s.outOfRange(tp, next, l.Offset, h.Offset)
			if err == nil {
				err = fmt.Errorf("topic %s partition %d: offset %d out of range", tp.topic, tp.partition, next)
			}
			return err
		}
		s.errs.add("kafka: topic %s partition %d: %v (retrying)", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}

// emitPartition emits the records of one fetched partition up to its stop offset and
// returns how many it emitted. The records go back to the client's pools at the end: what
// was emitted holds no reference into them (the decoders copy).
func (s *kafkaSource) emitPartition(out kafkaEmitter, cl *kgo.Client, fp kgo.FetchTopicPartition) (int, error) {
	defer func() {
		for _, r := range fp.Records {
			r.Recycle()
		}
	}()
	tp := topicPartition{fp.Topic, fp.Partition}
	s.mu.Lock()
	p := s.parts[tp]
	s.mu.Unlock()
	if p == nil {
		return 0, nil
	}
	n := 0
	for _, r := range fp.Records {
		if r.Offset < p.next.Load() {
			continue
		}
		if p.stop >= 0 && r.Offset >= p.stop {
			p.next.Store(p.stop)
			cl.PauseFetchPartitions(map[string][]int32{tp.topic: {tp.partition}})
			break
		}
		if !r.Attrs.IsControl() {
			rec, err := s.decode(r)
			if err != nil {
				b := BadRecord{Err: err, Record: string(r.Value),
					Kafka: &KafkaPosition{Topic: tp.topic, Partition: tp.partition, Offset: r.Offset}}
				if err := out.ctx.Bad(b); err != nil {
					return n, fmt.Errorf("topic %s partition %d offset %d: %w", tp.topic, tp.partition, r.Offset, err)
				}
			} else {
				if err := out.emit(rec, tp, p.name, r); err != nil {
					return n, err
				}
				n++
			}
		}
		p.next.Store(r.Offset + 1)
	}
	return n, nil
}

// kafkaEmitter is a source context with the optional interfaces it implements looked up once.
type kafkaEmitter struct {
	ctx   SourceContext
	pos   PositionContext // nil: the context does not take positions
	split SplitContext    // nil: no per-split event time
}

func newKafkaEmitter(ctx SourceContext) kafkaEmitter {
	e := kafkaEmitter{ctx: ctx}
	e.pos, _ = ctx.(PositionContext)
	e.split, _ = ctx.(SplitContext)
	return e
}

// emit emits a record of the partition named split with its Kafka timestamp, through
// SplitContext when the runtime offers it (per-partition watermarks).
func (e kafkaEmitter) emit(rec any, tp topicPartition, split string, r *kgo.Record) error {
	if e.pos != nil {
		e.pos.At(Position{Topic: tp.topic, Partition: tp.partition, Offset: r.Offset, Raw: r.Value})
	}
	if e.split != nil {
		return e.split.EmitFrom(rec, split, r.Timestamp.UnixMilli())
	}
	return e.ctx.Emit(rec)
}

// commitGroup commits offsets {"<topic>/<partition>": next} to a consumer group.
func commitGroup(ctx context.Context, adm *kadm.Client, group string, o Offsets) error {
	os := kadm.Offsets{}
	for k, v := range o {
		tp, ok := parseTopicPartition(k)
		if !ok {
			continue
		}
		os.AddOffset(tp.topic, tp.partition, v, -1)
	}
	if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
		return fmt.Errorf("commit offsets to group %q: %w", group, err)
	}
	return nil
}

// kafkaDecoder returns the function that turns a Kafka record into a canonical record of t:
// the value (a JSON object of t's other fields, or {value: …}) plus the metadata fields.
func kafkaDecoder(t *schema.Type, format string, meta Options) (func(r *kgo.Record) (any, error), error) {
	if t.Kind != schema.Record {
		return nil, fmt.Errorf("a kafka source needs a record schema, not %s", t)
	}
	fields := map[string]string{} // metadata name -> field
	metaField := map[string]bool{}
	for _, name := range []string{"key", "topic", "partition", "offset", "timestamp", "headers"} {
		if f := meta.String(name, ""); f != "" {
			ft := fieldType(t, f)
			if ft == nil {
				return nil, fmt.Errorf("metadata %s: field %q is not in the schema", name, f)
			}
			if err := checkMetaType(name, f, ft); err != nil {
				return nil, err
			}
			fields[name] = f
			metaField[f] = true
		}
	}
	var rest []schema.Field
	for _, f := range t.Fields {
		if !metaField[f.Name] {
			rest = append(rest, f)
		}
	}
	var value func(b []byte) (map[string]any, error)
	switch format {
	case "json", "":
		if len(rest) == 0 {
			return nil, errors.New("format json: the schema has no field besides the metadata")
		}
		dec := schema.RecordOf(rest...).NewJSONDecoder() // shares repeated short strings; one goroutine reads
		value = func(b []byte) (map[string]any, error) {
			v, err := dec.Decode(b)
			if err != nil {
				return nil, err
			}
			return v.(map[string]any), nil
		}
	case "string", "bytes":
		want := schema.String
		if format == "bytes" {
			want = schema.Bytes
		}
		if len(rest) != 1 || rest[0].Name != "value" || rest[0].Type.Kind != want {
			return nil, fmt.Errorf("format %s: the schema must be {value: %s} plus the metadata fields", format, schema.ScalarOf(want))
		}
		value = func(b []byte) (map[string]any, error) {
			if format == "bytes" {
				return map[string]any{"value": slices.Clone(b)}, nil
			}
			return map[string]any{"value": string(b)}, nil
		}
	default:
		return nil, fmt.Errorf("unknown format %q (want json, string or bytes)", format)
	}
	keyBytes, keyOptional := false, false
	var noKey error // a keyless record into a key field declared without `?`
	if f, ok := fields["key"]; ok {
		ft := fieldType(t, f)
		noKey = fmt.Errorf("the record has no key, but field %q of the schema is %s: declare it %s? to take records without a key", f, ft, ft)
		if keyOptional = ft.Kind == schema.Optional; keyOptional {
			ft = ft.Elem
		}
		keyBytes = ft.Kind == schema.Bytes
	}
	return func(r *kgo.Record) (any, error) {
		m, err := value(r.Value)
		if err != nil {
			return nil, err
		}
		for name, f := range fields {
			switch name {
			case "key":
				switch {
				case r.Key == nil && !keyOptional:
					return nil, noKey
				case r.Key == nil:
					m[f] = nil
				case keyBytes:
					m[f] = slices.Clone(r.Key)
				default:
					m[f] = string(r.Key)
				}
			case "topic":
				m[f] = r.Topic
			case "partition":
				m[f] = int64(r.Partition)
			case "offset":
				m[f] = r.Offset
			case "timestamp":
				m[f] = r.Timestamp.UnixMilli()
			case "headers":
				h := make(map[string]any, len(r.Headers))
				for _, kv := range r.Headers {
					h[kv.Key] = string(kv.Value)
				}
				m[f] = h
			}
		}
		return m, nil
	}, nil
}

// fieldType returns the type of a record's field (nil when it has none of that name).
func fieldType(t *schema.Type, name string) *schema.Type {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type
		}
	}
	return nil
}

// checkMetaType checks the type of the field a metadata item goes into.
func checkMetaType(name, field string, ft *schema.Type) error {
	base := ft
	if base.Kind == schema.Optional {
		base = base.Elem
	}
	ok := false
	switch name {
	case "key":
		ok = base.Kind == schema.String || base.Kind == schema.Bytes
	case "topic":
		ok = base.Kind == schema.String
	case "partition", "offset", "timestamp":
		ok = base.Kind == schema.Int
	case "headers":
		ok = base.Kind == schema.Map && base.Key.Kind == schema.String && base.Elem.Kind == schema.String
	}
	if !ok {
		want := map[string]string{"key": "string or bytes", "topic": "string", "partition": "int",
			"offset": "int", "timestamp": "int", "headers": "map<string, string>"}[name]
		return fmt.Errorf("metadata %s: field %q is %s, want %s", name, field, ft, want)
	}
	return nil
}
