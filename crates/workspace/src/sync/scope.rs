//! `ferry scope`: creating and listing the scopes a remote hosts.

use ferry_core::ScopeName;

use super::{connect, remote_error, scope_error};
use crate::error::Result;
use crate::remote::Remote;

/// Creates `scope` on `remote`.
pub fn create_scope(remote: &Remote, scope: &ScopeName) -> Result<()> {
    let client = connect(remote)?;
    client
        .create_scope(scope)
        .map_err(|error| scope_error(remote, scope, error))
}

/// Lists the scopes `remote` hosts, sorted.
pub fn list_scopes(remote: &Remote) -> Result<Vec<ScopeName>> {
    let client = connect(remote)?;
    client
        .list_scopes()
        .map_err(|error| remote_error(remote, error))
}
