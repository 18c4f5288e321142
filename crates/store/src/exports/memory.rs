//! Export sessions held in memory, for tests.
//!
//! One mutex guards all export state, and a commit holds it while it applies
//! the ref edits through [`MemoryRefStore::update_refs`], which is atomic on
//! its own. Other export operations therefore never see a commit half done.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use ferry_core::protocol::{ExportId, ExportState, IdempotencyKey};
use ferry_core::{ObjectId, ScopeName};

use super::{invalid_state, CommitAttempt, ExportRecord, ExportStore, ExportStoreError, Millis};
use crate::objects::ObjectStoreError;
use crate::refs::{MemoryRefStore, RefEdit, RefStore, RefUpdateError};

#[derive(Default)]
struct State {
    scopes: BTreeSet<ScopeName>,
    exports: HashMap<ExportId, ExportRecord>,
    keys: HashMap<IdempotencyKey, ExportId>,
    recorded: HashMap<ExportId, HashSet<ObjectId>>,
    reachable: HashSet<ObjectId>,
    collecting: HashSet<ObjectId>,
}

impl State {
    fn record(&mut self, id: &ExportId) -> Result<&mut ExportRecord, ExportStoreError> {
        self.exports
            .get_mut(id)
            .ok_or(ExportStoreError::UnknownExport(*id))
    }

    /// Returns the live export `id`, aborting it if its lease ran out.
    fn live(&mut self, id: &ExportId, now: Millis) -> Result<&mut ExportRecord, ExportStoreError> {
        let record = self.record(id)?;
        if record.is_expired_at(now) {
            end(record, ExportState::Aborted, None, now);
            return Err(ExportStoreError::Expired(*id));
        }
        if !record.state.is_live() {
            return Err(invalid_state(id, record.state, "open or prepared"));
        }
        Ok(record)
    }
}

fn end(record: &mut ExportRecord, state: ExportState, outcome: Option<&str>, now: Millis) {
    record.state = state;
    record.ended_at = Some(now);
    if let Some(outcome) = outcome {
        record.outcome = Some(outcome.to_owned());
    }
}

/// An [`ExportStore`] in memory whose commits update a [`MemoryRefStore`].
pub struct MemoryExportStore {
    refs: Arc<MemoryRefStore>,
    state: Mutex<State>,
}

impl MemoryExportStore {
    /// Creates an empty store whose commits update `refs`.
    pub fn new(refs: Arc<MemoryRefStore>) -> Self {
        Self {
            refs,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every method leaves the state consistent before it can panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ExportStore for MemoryExportStore {
    fn create_scope(&self, scope: &ScopeName, _now: Millis) -> Result<(), ExportStoreError> {
        if !self.state().scopes.insert(scope.clone()) {
            return Err(ExportStoreError::ScopeExists(scope.clone()));
        }
        Ok(())
    }

    fn list_scopes(&self) -> Result<Vec<ScopeName>, ExportStoreError> {
        Ok(self.state().scopes.iter().cloned().collect())
    }

    fn scope_exists(&self, scope: &ScopeName) -> Result<bool, ExportStoreError> {
        Ok(self.state().scopes.contains(scope))
    }

    fn open_export(
        &self,
        scope: &ScopeName,
        key: Option<&IdempotencyKey>,
        now: Millis,
        lease: Millis,
    ) -> Result<(ExportRecord, bool), ExportStoreError> {
        let mut state = self.state();
        if let Some(existing) = key.and_then(|key| state.keys.get(key)) {
            let record = state.exports[existing].clone();
            if record.scope != *scope {
                return Err(ExportStoreError::KeyReused {
                    key: key.map(|k| k.as_str().to_owned()).unwrap_or_default(),
                    export: record.id,
                    scope: record.scope,
                });
            }
            return Ok((record, false));
        }
        if !state.scopes.contains(scope) {
            return Err(ExportStoreError::UnknownScope(scope.clone()));
        }
        let record = ExportRecord {
            id: ExportId::mint(),
            scope: scope.clone(),
            idempotency_key: key.cloned(),
            state: ExportState::Open,
            created_at: now,
            expires_at: now + lease,
            ended_at: None,
            plan: None,
            outcome: None,
        };
        if let Some(key) = key {
            state.keys.insert(key.clone(), record.id);
        }
        state.exports.insert(record.id, record.clone());
        Ok((record, true))
    }

    fn get_export(&self, id: &ExportId) -> Result<Option<ExportRecord>, ExportStoreError> {
        Ok(self.state().exports.get(id).cloned())
    }

    fn record_objects(
        &self,
        id: &ExportId,
        objects: &[ObjectId],
        now: Millis,
        lease: Millis,
    ) -> Result<Vec<ObjectId>, ExportStoreError> {
        let mut state = self.state();
        state.live(id, now)?.expires_at = now + lease;
        state
            .recorded
            .entry(*id)
            .or_default()
            .extend(objects.iter().copied());
        Ok(objects
            .iter()
            .filter(|object| state.collecting.contains(object))
            .copied()
            .collect())
    }

    fn recorded_objects(&self, id: &ExportId) -> Result<Vec<ObjectId>, ExportStoreError> {
        let state = self.state();
        let recorded = state.recorded.get(id);
        Ok(recorded.into_iter().flatten().copied().collect())
    }

    fn reachable_among(&self, objects: &[ObjectId]) -> Result<Vec<ObjectId>, ExportStoreError> {
        let state = self.state();
        Ok(objects
            .iter()
            .filter(|object| state.reachable.contains(object))
            .copied()
            .collect())
    }

    fn set_prepared(
        &self,
        id: &ExportId,
        plan: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<(), ExportStoreError> {
        let mut state = self.state();
        let record = state.live(id, now)?;
        record.state = ExportState::Prepared;
        record.plan = Some(plan.to_owned());
        record.expires_at = now + lease;
        Ok(())
    }

    fn commit(
        &self,
        id: &ExportId,
        edits: &[RefEdit],
        outcome: &str,
        now: Millis,
    ) -> Result<CommitAttempt, ExportStoreError> {
        let mut state = self.state();
        let record = state.record(id)?;
        if !record.state.is_live() {
            return Ok(CommitAttempt::Finished(record.clone()));
        }
        if record.is_expired_at(now) {
            end(record, ExportState::Aborted, None, now);
            return Ok(CommitAttempt::Finished(record.clone()));
        }
        if record.state != ExportState::Prepared {
            return Err(invalid_state(id, record.state, "prepared"));
        }

        let recorded = state.recorded.remove(id).unwrap_or_default();
        let collected: Vec<_> = recorded.intersection(&state.collecting).copied().collect();
        if !collected.is_empty() {
            state.recorded.insert(*id, recorded);
            return Ok(CommitAttempt::Collected(collected));
        }
        match self.refs.update_refs("", edits) {
            Ok(()) => {}
            Err(RefUpdateError::Mismatch(mismatch)) => {
                state.recorded.insert(*id, recorded);
                return Ok(CommitAttempt::Mismatch {
                    name: mismatch.name,
                    expected: mismatch.expected,
                    actual: mismatch.actual,
                });
            }
            Err(RefUpdateError::Store(error)) => return Err(error.into()),
        }
        state.reachable.extend(recorded);
        end(
            state.record(id)?,
            ExportState::Committed,
            Some(outcome),
            now,
        );
        Ok(CommitAttempt::Applied)
    }

    fn finish_aborted(
        &self,
        id: &ExportId,
        outcome: Option<&str>,
        now: Millis,
    ) -> Result<ExportRecord, ExportStoreError> {
        let mut state = self.state();
        let record = state.record(id)?;
        if record.state.is_live() {
            end(record, ExportState::Aborted, outcome, now);
        }
        Ok(record.clone())
    }

    fn live_exports(&self) -> Result<Vec<ExportRecord>, ExportStoreError> {
        let state = self.state();
        let mut live: Vec<ExportRecord> = state
            .exports
            .values()
            .filter(|record| record.state.is_live())
            .cloned()
            .collect();
        live.sort_by_key(|record| record.id);
        Ok(live)
    }

    fn expire(&self, now: Millis) -> Result<Vec<ExportId>, ExportStoreError> {
        let mut state = self.state();
        let mut expired = Vec::new();
        for record in state.exports.values_mut() {
            if record.is_expired_at(now) {
                end(record, ExportState::Aborted, None, now);
                expired.push(record.id);
            }
        }
        Ok(expired)
    }

    fn begin_collection(&self, ended_before: Millis) -> Result<Vec<ObjectId>, ExportStoreError> {
        let mut state = self.state();
        let is_dead = |record: &ExportRecord| {
            record.state == ExportState::Aborted
                && record.ended_at.is_some_and(|ended| ended < ended_before)
        };
        let dead: Vec<ExportId> = state
            .exports
            .values()
            .filter(|record| is_dead(record))
            .map(|record| record.id)
            .collect();
        let live: HashSet<ObjectId> = state
            .exports
            .values()
            .filter(|record| record.state.is_live())
            .filter_map(|record| state.recorded.get(&record.id))
            .flatten()
            .copied()
            .collect();
        for id in dead {
            let objects = state.recorded.remove(&id).unwrap_or_default();
            for object in objects {
                if !live.contains(&object) && !state.reachable.contains(&object) {
                    state.collecting.insert(object);
                }
            }
        }
        Ok(state.collecting.iter().copied().collect())
    }

    fn end_collection(&self, objects: &[ObjectId]) -> Result<(), ExportStoreError> {
        let mut state = self.state();
        for object in objects {
            state.collecting.remove(object);
        }
        Ok(())
    }

    fn remove_collected(
        &self,
        objects: &[ObjectId],
        remove: &mut dyn FnMut(&ObjectId) -> Result<(), ObjectStoreError>,
    ) -> Result<usize, ExportStoreError> {
        // The state lock is held throughout, so no negotiation runs between
        // checking a mark and clearing it.
        let mut state = self.state();
        let mut removed = 0;
        for object in objects {
            if !state.collecting.contains(object) {
                continue;
            }
            remove(object).map_err(|source| ExportStoreError::Removal {
                id: *object,
                source: Box::new(source),
            })?;
            state.collecting.remove(object);
            removed += 1;
        }
        Ok(removed)
    }
}
