package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric descriptors, one per exported series name.
var (
	descRecordsIn = prometheus.NewDesc("pipectl_records_in_total",
		"Records received by an operator, summed over its subtasks.", []string{"uid"}, nil)
	descRecordsOut = prometheus.NewDesc("pipectl_records_out_total",
		"Records emitted by an operator, summed over its subtasks.", []string{"uid"}, nil)
	descSkipped = prometheus.NewDesc("pipectl_records_skipped_total",
		"Records skipped by on_error: skip.", nil, nil)
	descStateEntries = prometheus.NewDesc("pipectl_state_entries",
		"Entries (keys) of a keyed state.", []string{"uid", "state"}, nil)
	descLastCheckpoint = prometheus.NewDesc("pipectl_last_checkpoint_duration_seconds",
		"Duration of the latest checkpoint (0: none yet).", nil, nil)
	descLastSavepoint = prometheus.NewDesc("pipectl_last_savepoint_duration_seconds",
		"Duration of the latest savepoint (0: none yet).", nil, nil)
	descWatermarkLag = prometheus.NewDesc("pipectl_watermark_lag_seconds",
		"Processing time minus the event time an operator has reached (operators with event time only).", []string{"uid"}, nil)
	descBackpressure = prometheus.NewDesc("pipectl_backpressure_ratio",
		"Fraction of the last second an operator's busiest subtask waited to hand records downstream.", []string{"uid"}, nil)
	descStateBytes = prometheus.NewDesc("pipectl_state_bytes",
		"Encoded size of a keyed state in the latest checkpoint or savepoint (0: none yet).", []string{"uid", "state"}, nil)
	descRestarts = prometheus.NewDesc("pipectl_restarts_total",
		"Restarts of the job after a failure (restart: in the pipeline file).", nil, nil)
	descConnectorErrors = prometheus.NewDesc("pipectl_connector_errors_total",
		"Errors of an external system (a Kafka broker) that a source or sink retried.", []string{"uid"}, nil)
	descLateDropped = prometheus.NewDesc("pipectl_late_records_dropped_total",
		"Records a window without late_output dropped for coming later than its allowed lateness.", []string{"uid"}, nil)
	descJobInfo = prometheus.NewDesc("pipectl_job_info",
		"Always 1; labels identify the job.", []string{"id", "name"}, nil)
)

// jobCollector turns one Status and one StateEntries call per scrape into samples.
type jobCollector struct{ src Source }

// Describe implements prometheus.Collector.
func (c jobCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRecordsIn, descRecordsOut, descSkipped,
		descStateEntries, descLastCheckpoint, descLastSavepoint, descWatermarkLag, descRestarts, descJobInfo,
		descBackpressure, descStateBytes, descConnectorErrors, descLateDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c jobCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.src.Status()
	ch <- prometheus.MustNewConstMetric(descJobInfo, prometheus.GaugeValue, 1, st.ID, st.Name)
	now := time.Now().UnixMilli()
	for _, op := range st.Records {
		if op.WatermarkMs > 0 {
			ch <- prometheus.MustNewConstMetric(descWatermarkLag, prometheus.GaugeValue, float64(now-op.WatermarkMs)/1000, op.UID)
		}
		ch <- prometheus.MustNewConstMetric(descRecordsIn, prometheus.CounterValue, float64(op.In), op.UID)
		ch <- prometheus.MustNewConstMetric(descRecordsOut, prometheus.CounterValue, float64(op.Out), op.UID)
		ch <- prometheus.MustNewConstMetric(descBackpressure, prometheus.GaugeValue, op.Backpressure, op.UID)
		if op.LateDropped != nil {
			ch <- prometheus.MustNewConstMetric(descLateDropped, prometheus.CounterValue, float64(*op.LateDropped), op.UID)
		}
		if op.ConnectorErrors != nil {
			ch <- prometheus.MustNewConstMetric(descConnectorErrors, prometheus.CounterValue, float64(*op.ConnectorErrors), op.UID)
		}
		for _, s := range op.States {
			ch <- prometheus.MustNewConstMetric(descStateBytes, prometheus.GaugeValue, float64(s.Bytes), op.UID, s.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(descSkipped, prometheus.CounterValue, float64(st.Skipped))
	ch <- prometheus.MustNewConstMetric(descLastCheckpoint, prometheus.GaugeValue, msToSeconds(st.LastCheckpointMs))
	ch <- prometheus.MustNewConstMetric(descLastSavepoint, prometheus.GaugeValue, msToSeconds(st.LastSavepointMs))
	ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(st.Restarts))
	for _, s := range c.src.StateEntries() {
		ch <- prometheus.MustNewConstMetric(descStateEntries, prometheus.GaugeValue, float64(s.Entries), s.UID, s.State)
	}
}

// msToSeconds converts a duration in milliseconds to seconds.
func msToSeconds(ms int64) float64 { return float64(ms) / 1000 }
