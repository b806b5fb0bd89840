//! `--csv FILE`: one row per second of a run, for plotting rates and latency over time.
//!
//! Counters are running totals; rates are per second since the previous row; latency columns
//! describe the samples taken since the previous row (their count first, so that sums over the
//! rows give the run's totals), in microseconds. The last row, phase `end`, covers what
//! arrived after the last whole second, so the rows add up to the summary.

use super::report::Tick;
use super::stats::Percentiles;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// The header row.
pub const HEADER: &str = "time_s,phase,connected,failed,dropped,sent,acked,received,\
connects_per_s,sent_per_s,acked_per_s,received_per_s,\
latency_count,latency_p50_us,latency_p90_us,latency_p99_us,latency_p999_us,latency_max_us,\
ack_count,ack_p50_us,ack_p90_us,ack_p99_us,ack_p999_us,ack_max_us";

/// An open CSV file.
#[derive(Debug)]
pub struct CsvLog {
    out: BufWriter<File>,
}

impl CsvLog {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path) -> io::Result<CsvLog> {
        let mut log = CsvLog {
            out: BufWriter::new(File::create(path)?),
        };
        writeln!(log.out, "{HEADER}")?;
        log.out.flush()?;
        Ok(log)
    }

    /// Appends the row of `tick` and flushes it, so an interrupted run keeps its rows.
    pub fn row(&mut self, tick: &Tick) -> io::Result<()> {
        writeln!(self.out, "{}", row(tick))?;
        self.out.flush()
    }
}

/// The CSV row of one tick.
pub fn row(t: &Tick) -> String {
    let (c, r) = (&t.counts, &t.rates);
    format!(
        "{:.1},{},{},{},{},{},{},{},{},{},{},{},{},{}",
        t.t,
        t.phase,
        c.connected,
        c.failed,
        c.dropped,
        c.sent,
        c.acked,
        c.received,
        r.connects_per_s,
        r.sent_per_s,
        r.acked_per_s,
        r.received_per_s,
        percentiles(&t.latency_us),
        percentiles(&t.ack_latency_us),
    )
}

fn percentiles(p: &Percentiles) -> String {
    format!(
        "{},{},{},{},{},{}",
        p.count, p.p50, p.p90, p.p99, p.p999, p.max
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::{Rates, Snapshot};

    #[test]
    fn a_row_has_a_value_for_every_header_column() {
        let t = Tick {
            t: 2.0,
            phase: "running",
            counts: Snapshot {
                connected: 3,
                sent: 100,
                ..Snapshot::default()
            },
            rates: Rates {
                sent_per_s: 50.5,
                ..Rates::default()
            },
            latency_us: Percentiles {
                count: 7,
                p50: 120,
                max: 400,
                ..Percentiles::default()
            },
            ack_latency_us: Percentiles::default(),
        };
        let line = row(&t);
        let fields: Vec<&str> = line.split(',').collect();
        let names: Vec<&str> = HEADER.split(',').collect();
        assert_eq!(fields.len(), names.len(), "{line}");
        let get = |name: &str| fields[names.iter().position(|n| *n == name).unwrap()];
        assert_eq!(get("time_s"), "2.0");
        assert_eq!(get("sent"), "100");
        assert_eq!(get("sent_per_s"), "50.5");
        assert_eq!(get("latency_count"), "7");
        assert_eq!(get("latency_p50_us"), "120");
        assert_eq!(get("latency_max_us"), "400");
        assert_eq!(get("ack_count"), "0");
    }
}
