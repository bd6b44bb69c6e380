//! `zest list`: external lists named by tag: URIs (RFC 6134 2.5).

use anyhow::Result;
use store::ListVisibility;

use super::App;
use crate::cli::ListCmd;

pub async fn run(app: &App, cmd: ListCmd) -> Result<()> {
    let store = app.store().await?;
    match cmd {
        ListCmd::Create { uri, owner } => {
            let uri = store.list_uri(&uri).await?;
            let owner = match owner {
                Some(o) => Some(app.account(&o).await?),
                None => None,
            };
            store.create_list(&uri, owner).await?;
            println!("created list {uri}");
        }
        ListCmd::Add { uri, values } => {
            let uri = store.list_uri(&uri).await?;
            let n = values.len();
            let added = store.add_list_members(&uri, values).await?;
            println!("{uri}: added {added} of {n} (the rest were members already)");
        }
        ListCmd::Del { uri, values } => {
            let uri = store.list_uri(&uri).await?;
            let n = values.len();
            store.remove_list_members(&uri, values).await?;
            println!("{uri}: removed {n}");
        }
        ListCmd::Show { uri } => {
            let uri = store.list_uri(&uri).await?;
            for m in store.list_members(None, &uri).await? {
                println!("{m}");
            }
        }
        ListCmd::List { owner } => {
            let which = match owner {
                Some(o) => ListVisibility::OwnedBy(app.account(&o).await?),
                None => ListVisibility::All,
            };
            for l in store.lists(which).await? {
                let owner = l
                    .owner
                    .map(|o| o.to_string())
                    .unwrap_or_else(|| "server".into());
                println!("{}\t{}\t{}\t{} members", l.name, l.uri, owner, l.members);
            }
        }
        ListCmd::Delete { uri } => {
            let uri = store.list_uri(&uri).await?;
            store.delete_list(&uri).await?;
            println!("deleted list {uri}");
        }
    }
    Ok(())
}
