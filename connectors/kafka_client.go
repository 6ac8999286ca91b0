package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// The options every Kafka connector takes: where the cluster is and how to log in.
var (
	kafkaBrokersKey = Key{Name: "brokers", Type: TypeStringList, Required: true,
		Doc: "the bootstrap brokers, host:port: a list, or one comma-separated string such as \"${KAFKA_BROKERS}\""}
	kafkaTLSKey = Key{Name: "tls", Type: TypeObject, Doc: "connect with TLS", Keys: []Key{
		{Name: "ca_file", Type: TypePath, Doc: "PEM certificates of the CAs to trust (default: the system's)"},
		{Name: "cert_file", Type: TypePath, Doc: "PEM client certificate (with key_file)"},
		{Name: "key_file", Type: TypePath, Doc: "PEM key of the client certificate"},
	}}
	kafkaSASLKey = Key{Name: "sasl", Type: TypeObject, Doc: "authenticate with SASL", Keys: []Key{
		{Name: "mechanism", Type: TypeEnum, Required: true, Enum: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Doc: "the SASL mechanism"},
		{Name: "username", Type: TypeString, Required: true, Doc: "the user"},
		{Name: "password", Type: TypeString, Required: true, Doc: "the password (use ${VAR} to keep it out of the file)"},
	}}
	kafkaConnectTimeoutKey = Key{Name: "connect_timeout", Type: TypeDuration, Default: "10s",
		Doc: "how long run waits for the brokers at start before it fails, naming them"}
)

// defaultConnectTimeout is how long a Kafka connector waits for the cluster at start.
const defaultConnectTimeout = 10 * time.Second

// checkKafkaAuth validates the tls sub-keys that go together.
func checkKafkaAuth(o Options) []OptionError {
	t := o.Object("tls")
	if (t.String("cert_file", "") == "") != (t.String("key_file", "") == "") {
		return []OptionError{{Key: "tls", Msg: "tls: cert_file and key_file go together"}}
	}
	return nil
}

// kafkaErrors counts and logs the broker errors a Kafka client retries: failed connections
// (a broker down or restarting) and failed fetches. It is a kgo hook. Every error is counted;
// at most one a second is logged, with the number of those left out since the last line, so
// that a broker away for a while does not flood the log.
type kafkaErrors struct {
	n    atomic.Int64
	logf func(format string, args ...any) // nil: not logged

	mu      sync.Mutex
	logged  time.Time // when the last line was logged
	skipped int       // errors not logged since
}

// kafkaErrorLogEvery is the least time between two logged broker errors of one client.
const kafkaErrorLogEvery = time.Second

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (e *kafkaErrors) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		e.add("kafka: connect to broker %s:%d: %v (retrying)", meta.Host, meta.Port, err)
	}
}

// add counts one error and logs it, unless one was logged less than kafkaErrorLogEvery ago.
func (e *kafkaErrors) add(format string, args ...any) {
	e.n.Add(1)
	if e.logf == nil {
		return
	}
	e.mu.Lock()
	now := time.Now()
	if !e.logged.IsZero() && now.Sub(e.logged) < kafkaErrorLogEvery {
		e.skipped++
		e.mu.Unlock()
		return
	}
	skipped := e.skipped
	e.logged, e.skipped = now, 0
	e.mu.Unlock()
	if skipped > 0 {
		format += fmt.Sprintf(" (and %d more since the last one logged)", skipped)
	}
	e.logf(format, args...)
}

// kafkaClientOpts returns the client options for the brokers, TLS and SASL of o; errs counts
// the broker errors the client retries.
func kafkaClientOpts(o Options, errs *kafkaErrors) ([]kgo.Opt, error) {
	brokers := o.Strings("brokers")
	if len(brokers) == 0 {
		return nil, errors.New("no brokers")
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.DialTimeout(min(o.Duration("connect_timeout", defaultConnectTimeout), defaultConnectTimeout)),
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(time.Duration(tries)*100*time.Millisecond, 2*time.Second)
		}),
		kgo.WithHooks(errs),
	}
	if t := o.Object("tls"); t != nil {
		cfg, err := kafkaTLS(t)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if s := o.Object("sasl"); s != nil {
		m, err := kafkaSASL(s)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// kafkaTLS builds the TLS configuration of a tls option.
func kafkaTLS(t Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca := t.String("ca_file", ""); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s holds no PEM certificate", ca)
		}
		cfg.RootCAs = pool
	}
	if cert := t.String("cert_file", ""); cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, t.String("key_file", ""))
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// kafkaSASL builds the SASL mechanism of a sasl option.
func kafkaSASL(s Options) (sasl.Mechanism, error) {
	user, pass := s.String("username", ""), s.String("password", "")
	switch m := s.String("mechanism", ""); m {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	default:
		return nil, fmt.Errorf("sasl: unknown mechanism %q", m)
	}
}

// connectKafka waits until the cluster answers, for at most connect_timeout; the error names
// the brokers tried.
func connectKafka(cl *kgo.Client, o Options) error {
	return untilKafka(o, "cannot reach the Kafka brokers %s within connect_timeout %s: %w", cl.Ping)
}

// untilKafka calls try every 100 ms until it returns nil or a *final error, for at most
// connect_timeout; then the error is retryable and made with format from the brokers, the
// timeout and try's last error.
func untilKafka(o Options, format string, try func(ctx context.Context) error) error {
	timeout := o.Duration("connect_timeout", defaultConnectTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		err := try(ctx)
		var fe *final
		if err == nil || errors.As(err, &fe) {
			return err
		}
		select {
		case <-ctx.Done():
			return Retryable(fmt.Errorf(format, strings.Join(o.Strings("brokers"), ", "), timeout, err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// final is an error of an untilKafka attempt that trying again cannot mend.
type final struct{ error }
