//! HdrHistogram's percentile distribution text (`.hgrm`), the file HdrHistogram's plotter, wrk2
//! and most latency tools read. The hdrhistogram crate records and iterates but has no writer
//! for it, so this module writes the layout of the Java original's
//! `outputPercentileDistribution`:
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        0.101 0.000000000000          1           1.00
//!        ...                                             (5 ticks per half distance to 100%)
//!        9.871 1.000000000000       1000
//! #[Mean    =        1.234, StdDeviation   =        0.567]
//! #[Max     =        9.871, Total count    =         1000]
//! #[Buckets =           22, SubBuckets     =         2048]
//! ```
//!
//! Values are the highest value equivalent to each step's bucket, scaled by the unit ratio
//! (microseconds recorded, milliseconds written: 1000), with as many decimals as the
//! histogram has significant digits; the last row, at percentile 1.0, has no
//! `1/(1-Percentile)` column.

use hdrhistogram::Histogram;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Percentile steps per half of the remaining distance to 100%, as HdrHistogram's default.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;
/// Microseconds per millisecond: the histograms record µs, the file is read as ms.
pub const MICROS_PER_MILLI: f64 = 1000.0;

/// Writes `h` as a percentile distribution, values divided by `unit_ratio`.
pub fn write(h: &Histogram<u64>, unit_ratio: f64, out: &mut impl Write) -> io::Result<()> {
    let digits = usize::from(h.sigfig());
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    if !h.is_empty() {
        let mut total = 0u64;
        for step in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += step.count_since_last_iteration();
            let value = step.value_iterated_to() as f64 / unit_ratio;
            let q = step.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    out,
                    "{value:12.digits$} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                )?;
            } else {
                writeln!(out, "{value:12.digits$} {q:2.12} {total:10}")?;
            }
        }
    }
    let (mean, stdev) = if h.is_empty() {
        (0.0, 0.0)
    } else {
        (h.mean() / unit_ratio, h.stdev() / unit_ratio)
    };
    let max = if h.is_empty() {
        0.0
    } else {
        h.max() as f64 / unit_ratio
    };
    writeln!(
        out,
        "#[Mean    = {mean:12.digits$}, StdDeviation   = {stdev:12.digits$}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:12.digits$}, Total count    = {:12}]",
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets(h.sigfig())
    )
}

/// Writes each histogram, in milliseconds: the untagged one to `path`, a tagged one beside it
/// (`lat.hgrm` with tag `ack` → `lat-ack.hgrm`). The error names the file.
pub fn write_files(
    path: &Path,
    histograms: &[(Option<&str>, Histogram<u64>)],
) -> Result<(), String> {
    for (tag, h) in histograms {
        let file = tag.map_or_else(|| path.to_path_buf(), |t| sibling(path, t));
        let written = std::fs::File::create(&file).and_then(|f| {
            let mut out = io::BufWriter::new(f);
            write(h, MICROS_PER_MILLI, &mut out)?;
            out.flush()
        });
        written.map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// `lat.hgrm` → `lat-TAG.hgrm`; `lat` → `lat-TAG`.
pub fn sibling(path: &Path, tag: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{tag}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{tag}"),
    };
    path.with_file_name(name)
}

/// The sub-bucket count of a histogram with `sigfig` significant digits: the power of two that
/// holds `2 * 10^sigfig` (HdrHistogram's own formula; the crate does not expose the field).
pub fn sub_buckets(sigfig: u8) -> u64 {
    let largest = 2 * 10u64.pow(u32::from(sigfig));
    largest.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed row: value, percentile, total count, 1/(1-p) (absent on the last row).
    type Row = (f64, f64, u64, Option<f64>);

    /// Parses the rows and the footer numbers (mean, stdev, max, count, buckets, sub-buckets).
    pub(crate) fn parse(text: &str) -> (Vec<Row>, Vec<f64>) {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
        );
        assert_eq!(lines.next(), Some(""));
        let mut rows = Vec::new();
        let mut footer = Vec::new();
        for line in lines {
            if let Some(rest) = line.strip_prefix("#[") {
                for part in rest.trim_end_matches(']').split(',') {
                    let n = part.split('=').nth(1).unwrap().trim();
                    footer.push(n.parse::<f64>().unwrap());
                }
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            rows.push((
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f.get(3).map(|x| x.parse().unwrap()),
            ));
        }
        (rows, footer)
    }

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn rows_climb_to_the_total_and_the_footer_sums_up() {
        let h = histogram((1..=10_000).map(|i| i * 10));
        let mut out = Vec::new();
        write(&h, MICROS_PER_MILLI, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let (rows, footer) = parse(&text);
        assert!(rows.len() > 50, "{text}");
        assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0), "values climb");
        assert!(
            rows.windows(2).all(|w| w[0].1 < w[1].1),
            "percentiles climb"
        );
        assert!(rows.windows(2).all(|w| w[0].2 <= w[1].2), "counts climb");
        let first = rows[0];
        assert_eq!((first.0, first.1, first.2), (0.010, 0.0, 1));
        let last = *rows.last().unwrap();
        assert_eq!((last.1, last.2, last.3), (1.0, 10_000, None));
        assert!(rows[..rows.len() - 1].iter().all(|r| r.3.is_some()));
        assert!((last.0 - 100.0).abs() <= 0.1, "max 100 ms: {}", last.0);
        let median = rows.iter().find(|r| r.1 >= 0.5).unwrap();
        assert!((median.0 - 50.0).abs() <= 0.05, "median: {median:?}");
        assert!((footer[0] - 50.005).abs() < 0.05, "mean {}", footer[0]);
        assert!((footer[1] - 28.87).abs() < 0.1, "stdev {}", footer[1]);
        assert_eq!(footer[3], 10_000.0);
        assert_eq!(footer[4], f64::from(h.buckets()));
        assert_eq!(footer[5], 2048.0);
        assert!(text.contains("#[Mean    =       50.0"), "{text}");
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .starts_with("       0.010 0.000000000000")
        );
    }

    #[test]
    fn an_empty_histogram_is_a_header_and_a_footer() {
        let mut out = Vec::new();
        write(&histogram([]), MICROS_PER_MILLI, &mut out).unwrap();
        let (rows, footer) = parse(&String::from_utf8(out).unwrap());
        assert!(rows.is_empty());
        assert_eq!(&footer[..4], &[0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn tagged_files_sit_beside_the_named_one() {
        assert_eq!(
            sibling(Path::new("/r/lat.hgrm"), "ack"),
            Path::new("/r/lat-ack.hgrm")
        );
        assert_eq!(
            sibling(Path::new("lat"), "connect"),
            Path::new("lat-connect")
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.hgrm");
        let files = [(None, histogram([5])), (Some("ack"), histogram([7, 8]))];
        write_files(&path, &files).unwrap();
        let ack = std::fs::read_to_string(dir.path().join("x-ack.hgrm")).unwrap();
        assert_eq!(parse(&ack).1[3], 2.0);
        let err = write_files(&dir.path().join("no/such/dir"), &files).unwrap_err();
        assert!(err.contains("no/such/dir"), "{err}");
    }

    #[test]
    fn sub_buckets_follow_the_significant_digits() {
        assert_eq!(sub_buckets(3), 2048);
        assert_eq!(sub_buckets(2), 256);
        assert_eq!(sub_buckets(1), 32);
    }
}
