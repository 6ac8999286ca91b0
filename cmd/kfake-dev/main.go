// Command kfake-dev runs a tiny in-memory Kafka-protocol broker (franz-go's kfake) for trying
// pipectl's Kafka connectors without a real cluster. It prints the broker's address and runs
// until interrupted; its topics and records live in memory only.
//
//	go run ./cmd/kfake-dev -port 9092 -topics sensor-events,alarms -partitions 4
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	port := flag.Int("port", 9092, "the port to listen on (127.0.0.1); 0 picks a free one")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	partitions := flag.Int("partitions", 4, "partitions of the created topics, and of topics created on first use")
	flag.Parse()
	opts := []kfake.Opt{kfake.Ports(*port), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(*partitions)}
	if *topics != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*topics, ",")...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake-dev:", err)
		os.Exit(1)
	}
	defer c.Close()
	fmt.Println(strings.Join(c.ListenAddrs(), ","))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
}
