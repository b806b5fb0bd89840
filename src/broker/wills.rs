//! Wills waiting out their v5 will delay interval ([MQTT-3.1.3-9]): published when the delay
//! ends or the session ends, dropped when a connection resumes the session first. Checked by
//! the broker's periodic sweep, so a waiting will costs no task or timer.

use super::cell::SessionCell;
use crate::session::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// A will and when it is due.
struct Pending {
    due_ms: u64,
    msg: Arc<Message>,
    cell: Arc<SessionCell>,
}

/// Delayed wills by client id.
#[derive(Default)]
pub struct PendingWills {
    map: Mutex<HashMap<Arc<str>, Pending>>,
}

impl PendingWills {
    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, Pending>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds `msg`, the will of `cell`'s client, until `due_ms` (router ms). A will still
    /// pending for the same client is returned, to publish now.
    pub fn add(
        &self,
        cell: &Arc<SessionCell>,
        msg: Arc<Message>,
        due_ms: u64,
    ) -> Option<(Arc<Message>, Arc<SessionCell>)> {
        let pending = Pending {
            due_ms,
            msg,
            cell: cell.clone(),
        };
        self.lock()
            .insert(cell.client_id.clone(), pending)
            .map(|p| (p.msg, p.cell))
    }

    /// Takes the will pending for `client_id`, if any.
    pub fn take(&self, client_id: &str) -> Option<(Arc<Message>, Arc<SessionCell>)> {
        self.lock().remove(client_id).map(|p| (p.msg, p.cell))
    }

    /// Takes every will due at `now_ms`.
    pub fn due(&self, now_ms: u64) -> Vec<(Arc<Message>, Arc<SessionCell>)> {
        let mut map = self.lock();
        if map.is_empty() {
            return Vec::new();
        }
        let ids: Vec<Arc<str>> = map
            .iter()
            .filter(|(_, p)| p.due_ms <= now_ms)
            .map(|(id, _)| id.clone())
            .collect();
        ids.iter()
            .filter_map(|id| map.remove(id))
            .map(|p| (p.msg, p.cell))
            .collect()
    }
}
