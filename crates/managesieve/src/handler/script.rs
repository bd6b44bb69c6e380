//! The script commands (RFC 5804 2.5 to 2.12) over the store's Sieve API, with
//! per-user quotas and scripts compiled the way the MDA runs them.

use managesieve_proto::{
    Code, Command, Response, ScriptName, encode_listscripts_entry, encode_script,
};
use zest_core::sieve::{self, CompiledScript, ScriptError};

use super::{Action, Reply, store_error};
use crate::Shared;

pub(crate) async fn handle(shared: &Shared, account: &store::Account, command: Command) -> Reply {
    let r = match command {
        Command::HaveSpace { name, size } => havespace(shared, account, &name, size).await,
        Command::PutScript { name, script } => putscript(shared, account, &name, script).await,
        Command::CheckScript { script } => Ok(checkscript(shared, &script)),
        Command::ListScripts => return listscripts(shared, account).await,
        Command::GetScript { name } => return getscript(shared, account, &name).await,
        Command::SetActive { name } => setactive(shared, account, name.as_ref()).await,
        Command::DeleteScript { name } => deletescript(shared, account, &name).await,
        Command::RenameScript { from, to } => renamescript(shared, account, &from, &to).await,
        other => Ok(Response::no(format!(
            "{} is not a script command",
            other.name()
        ))),
    };
    Reply::response(r.unwrap_or_else(|e| e))
}

type Outcome = Result<Response, Response>;

fn too_big(shared: &Shared, size: usize) -> Option<Response> {
    (size > shared.sieve.max_script_size).then(|| {
        Response::no(format!(
            "Scripts may be at most {} octets",
            shared.sieve.max_script_size
        ))
        .with_code(Code::QuotaMaxSize)
    })
}

/// Refuses a new script beyond the per-user count; replacing one is fine.
async fn check_count(
    shared: &Shared,
    account: &store::Account,
    name: &ScriptName,
) -> Result<(), Response> {
    let scripts = shared
        .store
        .scripts(account.id)
        .await
        .map_err(|e| store_error(&e))?;
    let exists = scripts.iter().any(|s| s.name == name.as_str());
    if !exists && scripts.len() >= shared.sieve.max_scripts {
        return Err(Response::no(format!(
            "At most {} scripts are allowed",
            shared.sieve.max_scripts
        ))
        .with_code(Code::QuotaMaxScripts));
    }
    Ok(())
}

async fn havespace(
    shared: &Shared,
    account: &store::Account,
    name: &ScriptName,
    size: u32,
) -> Outcome {
    if let Some(r) = too_big(shared, size as usize) {
        return Err(r);
    }
    check_count(shared, account, name).await?;
    Ok(Response::ok("Putscript would succeed"))
}

/// RFC 5804 2.6: an invalid script is refused with the compiler's message.
fn compiled(shared: &Shared, script: &[u8]) -> Result<CompiledScript, Response> {
    sieve::compile(&shared.sieve, script).map_err(|e: ScriptError| Response::no(e.to_string()))
}

/// OK, or OK (WARNINGS) with the warnings as text.
fn ok_with_warnings(c: &CompiledScript, text: &str) -> Response {
    if c.warnings.is_empty() {
        return Response::ok(text);
    }
    let text = c
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Response::ok(text).with_code(Code::Warnings)
}

async fn putscript(
    shared: &Shared,
    account: &store::Account,
    name: &ScriptName,
    script: Vec<u8>,
) -> Outcome {
    if let Some(r) = too_big(shared, script.len()) {
        return Err(r);
    }
    let c = compiled(shared, &script)?;
    check_count(shared, account, name).await?;
    shared
        .store
        .put_script(account.id, name.as_str(), script)
        .await
        .map_err(|e| store_error(&e))?;
    tracing::info!(user = %account.address, script = ?name.as_str(), "script stored");
    Ok(ok_with_warnings(&c, "Script stored"))
}

fn checkscript(shared: &Shared, script: &[u8]) -> Response {
    if let Some(r) = too_big(shared, script.len()) {
        return r;
    }
    match compiled(shared, script) {
        Ok(c) => ok_with_warnings(&c, "Script is valid"),
        Err(r) => r,
    }
}

async fn listscripts(shared: &Shared, account: &store::Account) -> Reply {
    match shared.store.scripts(account.id).await {
        Ok(scripts) => {
            let mut out = Vec::new();
            for s in &scripts {
                encode_listscripts_entry(&mut out, &s.name, s.active);
            }
            out.extend(Response::ok("Listscripts completed").to_bytes());
            Reply {
                out,
                action: Action::None,
            }
        }
        Err(e) => Reply::response(store_error(&e)),
    }
}

async fn getscript(shared: &Shared, account: &store::Account, name: &ScriptName) -> Reply {
    match shared.store.script(account.id, name.as_str()).await {
        Ok(script) => {
            let mut out = Vec::new();
            encode_script(&mut out, &script.content);
            out.extend(Response::ok("Getscript completed").to_bytes());
            Reply {
                out,
                action: Action::None,
            }
        }
        Err(e) => Reply::response(store_error(&e)),
    }
}

async fn setactive(
    shared: &Shared,
    account: &store::Account,
    name: Option<&ScriptName>,
) -> Outcome {
    if let Some(name) = name {
        // A script stored by other means (the admin UI, the CLI) is checked
        // before it runs on deliveries.
        let script = shared
            .store
            .script(account.id, name.as_str())
            .await
            .map_err(|e| store_error(&e))?;
        compiled(shared, &script.content)?;
    }
    shared
        .store
        .activate_script(account.id, name.map(ScriptName::as_str))
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Response::ok(match name {
        Some(_) => "Script activated",
        None => "No script is active",
    }))
}

async fn deletescript(shared: &Shared, account: &store::Account, name: &ScriptName) -> Outcome {
    match shared.store.delete_script(account.id, name.as_str()).await {
        Ok(()) => Ok(Response::ok("Script deleted")),
        // RFC 5804 2.10: the active script cannot be deleted.
        Err(store::StoreError::Refused(text)) => Err(Response::no(text).with_code(Code::Active)),
        Err(e) => Err(store_error(&e)),
    }
}

async fn renamescript(
    shared: &Shared,
    account: &store::Account,
    from: &ScriptName,
    to: &ScriptName,
) -> Outcome {
    shared
        .store
        .rename_script(account.id, from.as_str(), to.as_str())
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Response::ok("Script renamed"))
}
