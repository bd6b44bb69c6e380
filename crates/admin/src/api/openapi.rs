//! `/api/v1/openapi.json`: the API's description. A test compares its paths
//! with the router's, and schemathesis checks the server against it.

use axum::Json;
use serde_json::{Value, json};

fn int() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

fn uint() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 0 })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn nullable(mut v: Value) -> Value {
    v["nullable"] = json!(true);
    v
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

fn object(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}

fn path_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": schema, "description": description })
}

fn address() -> Value {
    path_param("address", string(), "a user's full address")
}

fn book() -> Value {
    path_param(
        "book",
        string(),
        "an address book's name (`default` always exists)",
    )
}

fn list_name() -> Value {
    path_param(
        "name",
        string(),
        "a list's short NAME (or its full tag: URI)",
    )
}

fn script_name() -> Value {
    path_param("name", string(), "a Sieve script's name")
}

fn id(what: &str) -> Value {
    path_param("id", int(), what)
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn ok(status: &str, description: &str, schema: Option<Value>) -> (String, Value) {
    let mut r = json!({ "description": description });
    if let Some(s) = schema {
        r["content"] = json!({ "application/json": { "schema": s } });
    }
    (status.to_string(), r)
}

/// One operation with the success responses given and the error responses
/// every operation can give.
fn op(
    summary: &str,
    params: Vec<Value>,
    body: Option<Value>,
    success: Vec<(String, Value)>,
) -> Value {
    let mut responses = serde_json::Map::new();
    for (status, r) in success {
        responses.insert(status, r);
    }
    for (status, description) in [
        ("400", "the request is not valid"),
        ("401", "no valid bearer token"),
        ("404", "no such thing, or not the token user's to see"),
        ("409", "conflicts with what exists"),
        ("422", "the body is not the expected JSON"),
        ("503", "the store is busy; try again"),
    ] {
        responses.entry(status).or_insert(json!({
            "description": description,
            "content": { "application/json": { "schema": reference("Error") } }
        }));
    }
    let mut o = json!({ "summary": summary, "parameters": params, "responses": responses });
    if let Some(b) = body {
        o["requestBody"] = b;
    }
    o
}

fn schemas() -> Value {
    json!({
        "Error": object(&["error"], json!({ "error": string() })),
        "Domain": object(&["id", "name", "created_at", "accounts", "aliases"], json!({
            "id": int(), "name": string(), "created_at": int(), "accounts": uint(), "aliases": uint()
        })),
        "NewDomain": object(&["name"], json!({ "name": string() })),
        "Account": object(&["id", "address", "is_admin", "quota_bytes", "quota_messages", "used_bytes", "used_messages", "created_at"], json!({
            "id": int(), "address": string(), "is_admin": { "type": "boolean" },
            "quota_bytes": nullable(uint()), "quota_messages": nullable(uint()),
            "used_bytes": uint(), "used_messages": uint(), "created_at": int()
        })),
        "NewUser": object(&["address", "password"], json!({
            "address": string(),
            "password": { "type": "string", "minLength": 8, "maxLength": 1024 },
            "admin": { "type": "boolean" },
            "quota_bytes": nullable(uint())
        })),
        "UserChanges": {
            "type": "object",
            "description": "Absent fields stay as they are; quota_bytes null removes the limit. Only an admin may change admin and quota_bytes.",
            "properties": {
                "password": { "type": "string", "minLength": 8, "maxLength": 1024 },
                "admin": { "type": "boolean" },
                "quota_bytes": nullable(uint())
            }
        },
        "Alias": object(&["address", "target", "created_at"], json!({
            "address": string(), "target": string(), "created_at": int()
        })),
        "NewAlias": object(&["alias", "target"], json!({ "alias": string(), "target": string() })),
        "Losses": object(&["messages", "bytes", "mailboxes", "aliases", "books", "contacts", "lists", "scripts"], json!({
            "messages": uint(), "bytes": uint(), "mailboxes": uint(),
            "aliases": array(reference("Alias")), "books": array(reference("AddressBook")),
            "contacts": uint(), "lists": array(reference("List")), "scripts": uint()
        })),
        "AddressBook": object(&["id", "name", "contacts"], json!({
            "id": int(), "name": string(), "contacts": uint()
        })),
        "NewBook": object(&["name"], json!({ "name": string() })),
        "Contact": object(&["id", "name", "emails", "note"], json!({
            "id": int(), "name": string(), "emails": array(string()), "note": string()
        })),
        "ContactInput": object(&["emails"], json!({
            "name": string(), "emails": array(string()), "note": string()
        })),
        "LineProblem": object(&["line", "message"], json!({ "line": uint(), "message": string() })),
        "ImportReport": object(&["imported", "duplicates", "skipped", "errors"], json!({
            "imported": uint(), "duplicates": uint(),
            "skipped": array(reference("LineProblem")), "errors": array(reference("LineProblem"))
        })),
        "List": object(&["id", "uri", "name", "owner", "members"], json!({
            "id": int(), "uri": string(), "name": string(),
            "owner": nullable(string()), "members": uint()
        })),
        "NewList": object(&["name"], json!({
            "name": string(),
            "owner": { "type": "string", "nullable": true, "description": "a user's address; absent or empty: a server list (admins only; a user always owns their lists)" }
        })),
        "Members": object(&["members"], json!({ "members": array(string()) })),
        "Added": object(&["added"], json!({ "added": uint() })),
        "ScriptSummary": object(&["name", "active", "last_error", "updated_at"], json!({
            "name": string(), "active": { "type": "boolean" },
            "last_error": nullable(string()), "updated_at": int()
        })),
        "Script": object(&["name", "active", "content", "last_error", "updated_at"], json!({
            "name": string(), "active": { "type": "boolean" }, "content": string(),
            "last_error": nullable(string()), "updated_at": int()
        })),
        "PutScript": object(&["content"], json!({
            "content": string(), "active": { "type": "boolean" }
        })),
        "Saved": object(&["name", "warnings"], json!({
            "name": string(),
            "warnings": array(object(&["line", "message"], json!({ "line": uint(), "message": string() })))
        })),
        "CompileError": object(&["error", "line", "column"], json!({
            "error": string(), "line": uint(), "column": uint()
        })),
        "QueueRecipient": object(&["address", "status", "attempts", "next_attempt", "last_attempt", "last_error", "remote_mta"], json!({
            "address": string(), "status": string(), "attempts": uint(), "next_attempt": int(),
            "last_attempt": nullable(int()), "last_error": nullable(string()), "remote_mta": nullable(string())
        })),
        "QueueEntry": object(&["id", "sender", "source", "created_at", "expires_at", "hold_until", "size", "last_error", "recipients"], json!({
            "id": int(), "sender": string(), "source": string(), "created_at": int(), "expires_at": int(),
            "hold_until": nullable(int()), "size": uint(), "last_error": nullable(string()),
            "recipients": array(reference("QueueRecipient"))
        })),
        "Retried": object(&["due"], json!({ "due": uint() }))
    })
}

fn paths() -> Value {
    let r = reference;
    let no_content = || ok("204", "done", None);
    json!({
        "/domains": {
            "get": op("Domains (admin)", vec![], None, vec![ok("200", "the domains", Some(array(r("Domain"))))]),
            "post": op("Add a domain (admin)", vec![], Some(json_body(r("NewDomain"))), vec![ok("201", "added", Some(r("Domain")))])
        },
        "/domains/{name}": {
            "delete": op("Delete a domain without users or aliases (admin)", vec![path_param("name", string(), "the domain")], None, vec![no_content()])
        },
        "/users": {
            "get": op("Users (admin)", vec![], None, vec![ok("200", "the users", Some(array(r("Account"))))]),
            "post": op("Create a user with the standard mailboxes and the default address book (admin)", vec![], Some(json_body(r("NewUser"))), vec![ok("201", "created", Some(r("Account")))])
        },
        "/users/{address}": {
            "get": op("A user (admin, or the token's own user)", vec![address()], None, vec![ok("200", "the user", Some(r("Account")))]),
            "patch": op("Change password, admin role or quota", vec![address()], Some(json_body(r("UserChanges"))), vec![ok("200", "the user as changed", Some(r("Account")))]),
            "delete": op("Delete a user and everything they own (admin)", vec![address()], None, vec![ok("200", "what was deleted", Some(r("Losses")))])
        },
        "/users/{address}/aliases": {
            "get": op("A user's aliases", vec![address()], None, vec![ok("200", "the aliases", Some(array(r("Alias"))))])
        },
        "/aliases": {
            "get": op("Aliases (admin)", vec![], None, vec![ok("200", "the aliases", Some(array(r("Alias"))))]),
            "post": op("Add an alias (admin)", vec![], Some(json_body(r("NewAlias"))), vec![ok("201", "added", Some(r("Alias")))])
        },
        "/aliases/{alias}": {
            "delete": op("Delete an alias (admin)", vec![path_param("alias", string(), "the alias address")], None, vec![no_content()])
        },
        "/users/{address}/books": {
            "get": op("A user's address books; Sieve uses them as :addrbook:NAME", vec![address()], None, vec![ok("200", "the books", Some(array(r("AddressBook"))))]),
            "post": op("Create an address book", vec![address()], Some(json_body(r("NewBook"))), vec![ok("201", "created", Some(r("AddressBook")))])
        },
        "/users/{address}/books/{book}": {
            "delete": op("Delete an address book and its contacts (not default)", vec![address(), book()], None, vec![no_content()])
        },
        "/users/{address}/books/{book}/contacts": {
            "get": op("Contacts, by name; q searches names and emails", vec![
                address(), book(),
                json!({ "name": "q", "in": "query", "required": false, "schema": string() }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 4294967295u64 } }),
                json!({ "name": "offset", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 0, "maximum": 4294967295u64 } })
            ], None, vec![ok("200", "the contacts", Some(array(r("Contact"))))]),
            "post": op("Add a contact; an email already in the book is a conflict", vec![address(), book()], Some(json_body(r("ContactInput"))), vec![ok("201", "added", Some(r("Contact")))])
        },
        "/users/{address}/books/{book}/contacts/{id}": {
            "get": op("A contact", vec![address(), book(), id("the contact's id")], None, vec![ok("200", "the contact", Some(r("Contact")))]),
            "put": op("Replace a contact's name, emails and note", vec![address(), book(), id("the contact's id")], Some(json_body(r("ContactInput"))), vec![ok("200", "the contact as saved", Some(r("Contact")))]),
            "delete": op("Delete a contact", vec![address(), book(), id("the contact's id")], None, vec![no_content()])
        },
        "/users/{address}/books/{book}/import": {
            "post": op("Import a vCard or CSV file (the request body); bad records are reported by line", vec![address(), book()], Some(json!({
                "required": true,
                "content": {
                    "text/vcard": { "schema": string() },
                    "text/csv": { "schema": string() },
                    "application/octet-stream": { "schema": { "type": "string", "format": "binary" } }
                }
            })), vec![ok("200", "what was imported and which lines were not", Some(r("ImportReport")))])
        },
        "/users/{address}/books/{book}/export": {
            "get": op("The book as vCard 4.0", vec![address(), book()], None, vec![("200".to_string(), json!({
                "description": "the contacts", "content": { "text/vcard": { "schema": string() } }
            }))])
        },
        "/lists": {
            "get": op("Lists: all for an admin, else the server's and the user's own", vec![], None, vec![ok("200", "the lists", Some(array(r("List"))))]),
            "post": op("Create a list named tag:PREFIX:NAME", vec![], Some(json_body(r("NewList"))), vec![ok("201", "created", Some(r("List")))])
        },
        "/lists/{name}": {
            "get": op("A list the token's user manages", vec![list_name()], None, vec![ok("200", "the list", Some(r("List")))]),
            "delete": op("Delete a list", vec![list_name()], None, vec![no_content()])
        },
        "/lists/{name}/members": {
            "get": op("Members", vec![list_name()], None, vec![ok("200", "the members", Some(array(string())))]),
            "post": op("Add members (repeats are ignored)", vec![list_name()], Some(json_body(r("Members"))), vec![ok("200", "how many were new", Some(r("Added")))])
        },
        "/lists/{name}/members/remove": {
            "post": op("Remove members; one that is not a member fails the whole call", vec![list_name()], Some(json_body(r("Members"))), vec![no_content()])
        },
        "/users/{address}/scripts": {
            "get": op("A user's Sieve scripts", vec![address()], None, vec![ok("200", "the scripts", Some(array(r("ScriptSummary"))))])
        },
        "/users/{address}/scripts/{name}": {
            "get": op("A script", vec![address(), script_name()], None, vec![ok("200", "the script", Some(r("Script")))]),
            "put": op("Create or replace a script; it must compile", vec![address(), script_name()], Some(json_body(r("PutScript"))), vec![
                ok("200", "saved", Some(r("Saved"))),
                ("422".to_string(), json!({ "description": "the script does not compile, or the body is not the expected JSON", "content": { "application/json": { "schema": { "oneOf": [r("CompileError"), r("Error")] } } } }))
            ]),
            "delete": op("Delete a script (not the active one)", vec![address(), script_name()], None, vec![no_content()])
        },
        "/users/{address}/scripts/{name}/activate": {
            "post": op("Make a script the active one", vec![address(), script_name()], None, vec![no_content()])
        },
        "/users/{address}/sieve/deactivate": {
            "post": op("Turn filtering off", vec![address()], None, vec![no_content()])
        },
        "/queue": {
            "get": op("The outbound queue (admin)", vec![], None, vec![ok("200", "queued messages", Some(array(r("QueueEntry"))))])
        },
        "/queue/{id}": {
            "get": op("A queued message (admin)", vec![id("the queue id")], None, vec![ok("200", "the message", Some(r("QueueEntry")))]),
            "delete": op("Delete a queued message without a bounce (admin)", vec![id("the queue id")], None, vec![no_content()])
        },
        "/queue/{id}/retry": {
            "post": op("Make a queued message due now (admin)", vec![id("the queue id")], None, vec![ok("200", "how many recipients are due", Some(r("Retried")))])
        }
    })
}

pub fn spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Zest admin API",
            "version": "1",
            "description": "What the Zest admin web UI does, for scripts. Authenticate with `Authorization: Bearer TOKEN` (tokens are created by an admin in the UI). A token acts as its user: an admin's can do everything; another user's only reaches that user's own address books, lists and scripts, and anything else is 404."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas()
        },
        "paths": paths()
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves() {
        let s = spec();
        let text = s.to_string();
        let schemas = s["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "{name}");
        }
    }
}
