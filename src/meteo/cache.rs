//! The on-disk cache: each source's municipality and station lists (refreshed weekly, since
//! they are large and rarely change), and the publish state (the last published stamp of
//! every product, so a cron job publishes only what changed).
//!
//! Files are JSON, written to a temporary name and renamed, so a crash never leaves half a
//! file. Default directory: `$XDG_CACHE_HOME/mq/meteo`, else `~/.cache/mq/meteo`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long the master lists are trusted.
pub const LIST_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// The default directory, from `XDG_CACHE_HOME` or `HOME`.
pub fn default_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("mq").join("meteo"))
}

impl Cache {
    /// A cache rooted at `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Cache { dir }
    }

    /// Where it lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn read<T: for<'de> Deserialize<'de>>(
        &self,
        name: &str,
        max_age: Option<Duration>,
    ) -> Option<T> {
        let path = self.dir.join(name);
        if let Some(max) = max_age {
            let age = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| SystemTime::now().duration_since(t).ok())?;
            if age > max {
                return None;
            }
        }
        let text = std::fs::read_to_string(&path).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn write<T: Serialize>(&self, name: &str, value: &T) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let text = serde_json::to_string(value).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, self.dir.join(name))
    }

    /// A cached list (`stations.json`, …), if younger than a week.
    pub fn list<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<Vec<T>> {
        self.read(name, Some(LIST_MAX_AGE))
    }

    /// Stores a list.
    pub fn store_list<T: Serialize>(&self, name: &str, list: &[T]) -> std::io::Result<()> {
        self.write(name, &list)
    }

    /// The publish state; empty when absent or unreadable.
    pub fn state(&self) -> PublishState {
        self.read("state.json", None).unwrap_or_default()
    }

    /// Stores the publish state.
    pub fn store_state(&self, state: &PublishState) -> std::io::Result<()> {
        self.write("state.json", state)
    }
}

/// The last published stamp of each product, per topic prefix (two configurations sharing a
/// cache must not hide each other's publishes).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PublishState {
    /// `"{prefix} {product key}"` → stamp.
    pub stamps: BTreeMap<String, String>,
}

impl PublishState {
    /// True if `stamp` differs from the one last published for this product.
    pub fn changed(&self, scope: &str, key: &str, stamp: &str) -> bool {
        self.stamps
            .get(&format!("{scope} {key}"))
            .map(String::as_str)
            != Some(stamp)
    }

    /// Records a publish.
    pub fn record(&mut self, scope: &str, key: &str, stamp: &str) {
        self.stamps
            .insert(format!("{scope} {key}"), stamp.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meteo::places::StationInfo;

    #[test]
    fn state_round_trip_and_change_detection() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("sub"));
        let mut st = cache.state();
        assert!(st.changed("meteo", "station/3195", "a"));
        st.record("meteo", "station/3195", "a");
        cache.store_state(&st).unwrap();
        let st = cache.state();
        assert!(!st.changed("meteo", "station/3195", "a"));
        assert!(st.changed("other", "station/3195", "a"));
        assert!(st.changed("meteo", "station/3195", "b"));
    }

    #[test]
    fn lists_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_path_buf());
        assert!(cache.list::<StationInfo>("stations.json").is_none());
        let s = vec![StationInfo {
            id: "3195".into(),
            name: "MADRID RETIRO".into(),
            lat: 40.4,
            lon: -3.6,
            altitude: Some(667.0),
            temperature: true,
        }];
        cache.store_list("stations.json", &s).unwrap();
        assert_eq!(cache.list("stations.json"), Some(s));
    }
}
