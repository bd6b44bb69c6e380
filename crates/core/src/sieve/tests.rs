use super::*;

fn settings() -> SieveSettings {
    SieveSettings::default()
}

fn err(script: &str) -> ScriptError {
    match compile(&settings(), script.as_bytes()) {
        Ok(c) => panic!("compiled: {script}\nwarnings {:?}", c.warnings),
        Err(e) => e,
    }
}

fn ok(script: &str) -> CompiledScript {
    compile(&settings(), script.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{script}"))
}

#[test]
fn settings_come_from_the_config() {
    let c = SieveConfig {
        max_scripts: 3,
        max_script_size: 1000,
        max_redirects: 2,
        max_list_recipients: 7,
    };
    assert_eq!(
        SieveSettings::from(&c),
        SieveSettings {
            max_scripts: 3,
            max_script_size: 1000,
            max_redirects: 2,
            max_list_recipients: 7,
        }
    );
}

#[test]
fn every_extension_can_be_required_and_run() {
    let exts = extensions();
    assert!(exts.contains(&"extlists"));
    assert!(exts.contains(&"fileinto"));
    assert!(exts.contains(&"comparator-i;unicode-casemap"));
    let list = exts
        .iter()
        .map(|e| format!("{e:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let script = format!("require [{list}];\nkeep;\n");
    let compiled = ok(&script);
    assert!(compiled.warnings.is_empty());

    // The runtime allows exactly the same set.
    let results = run(compiled.sieve);
    assert!(
        results
            .iter()
            .any(|e| matches!(e, Ok(::sieve::Event::Keep { .. }))),
        "{results:?}"
    );
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
}

fn run(script: ::sieve::Sieve) -> Vec<Result<::sieve::Event, ::sieve::runtime::RuntimeError>> {
    let runtime = runtime(&settings());
    let mut ctx = runtime.filter(b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n");
    let mut out = Vec::new();
    let mut input = ::sieve::Input::script(::sieve::Script::Personal("s".into()), script);
    while let Some(result) = ctx.run(input) {
        out.push(result);
        input = ::sieve::Input::True;
    }
    out
}

#[test]
fn runtime_refuses_what_is_not_advertised() {
    // A script compiled without Zest's checks must still not run "environment".
    let script = compiler(&settings())
        .compile(b"require \"environment\";\nkeep;\n")
        .unwrap();
    let results = run(script);
    assert!(
        matches!(
            results.first(),
            Some(Err(::sieve::runtime::RuntimeError::CapabilityNotAllowed(_)))
        ),
        "{results:?}"
    );
}

#[test]
fn list_match_raises_list_contains() {
    let c =
        ok("require \"extlists\";\nif header :list \"from\" \":addrbook:default\" { discard; }\n");
    let runtime = runtime(&settings());
    let mut ctx = runtime.filter(b"From: a@example.org\r\n\r\nx\r\n");
    let event = ctx.run(::sieve::Input::script(
        ::sieve::Script::Personal("s".into()),
        c.sieve,
    ));
    match event {
        Some(Ok(::sieve::Event::ListContains { lists, values, .. })) => {
            assert_eq!(lists, vec![":addrbook:default".to_string()]);
            assert_eq!(values, vec!["a@example.org".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_extension_is_an_error_with_its_line() {
    let e = err("# filters\nrequire [\"fileinto\",\n  \"comparator-i;elbonia\"];\nkeep;\n");
    assert_eq!((e.line, e.column), (3, 3));
    assert_eq!(e.message, "unsupported extension \"comparator-i;elbonia\"");
    let e = err("require \"environment\";\n");
    assert_eq!((e.line, e.column), (1, 9));
    assert_eq!(
        e.to_string(),
        "line 1, column 9: unsupported extension \"environment\""
    );
}

#[test]
fn syntax_errors_carry_line_and_column() {
    let e = err("keep;\nfileinto \"x\";\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("fileinto"), "{e}");
    assert!(!e.message.contains(" at line "), "{e}");
    let e = err("if true {\n  keep;\n");
    assert_eq!(e.message, "Unterminated block");
    let e = err("require \"fileinto\";\nfileinto \"unterminated;\n");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn first_line_columns_are_one_based() {
    let e = err("keep; bogus;");
    assert_eq!((e.line, e.column), (1, 7), "{e}");
    let e = err("bogus;");
    assert_eq!((e.line, e.column), (1, 1), "{e}");
    let e = err("keep;\nbogus;");
    assert_eq!((e.line, e.column), (2, 1), "{e}");
}

#[test]
fn list_names_are_checked_where_lists_are_used() {
    let head = "require [\"extlists\", \"envelope\", \"variables\"];\n";
    for (test, want) in [
        (
            "if envelope :list \"from\" \":addrbook:default\" { keep; }",
            vec![ExtListName::AddressBook("default".into())],
        ),
        (
            "if header :list [\"from\", \"sender\"] [\"tag:example.org,2026-01-01:vip\", \":AddrBook:Family\"] { keep; }",
            vec![
                ExtListName::parse("tag:example.org,2026-01-01:vip").unwrap(),
                ExtListName::AddressBook("Family".into()),
            ],
        ),
        (
            "if address :all :list \"from\" \"urn:ietf:params:sieve:addrbook:Default\" { keep; }",
            vec![ExtListName::AddressBook("default".into())],
        ),
        (
            "set \"who\" \"x\"; if string :list \"${who}\" \":addrbook:default\" { keep; }",
            vec![ExtListName::AddressBook("default".into())],
        ),
    ] {
        let c = ok(&format!("{head}{test}\n"));
        assert_eq!(c.lists, want, "{test}");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    let e = err(
        "require \"extlists\";\n\nif header :list \"from\"\n   \"mailto:a@example.org\" { keep; }\n",
    );
    assert_eq!((e.line, e.column), (4, 4));
    assert!(e.message.contains("scheme is not supported"), "{e}");

    let e = err("require \"extlists\";\nif address :list \"from\" \":addrbook:\" { keep; }\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("empty"), "{e}");

    let e = err("require \"extlists\";\nif header :list \"from\" \":books:x\" { keep; }\n");
    assert!(e.message.contains("addrbook URN"), "{e}");

    let e = err(
        "require [\"extlists\", \"envelope\"];\nif envelope :list \"from\" \"tag:x\" { keep; }\n",
    );
    assert_eq!(e.line, 2);
}

#[test]
fn variables_in_list_names_wait_for_run_time() {
    let c = ok(
        "require [\"extlists\", \"variables\"];\nset \"book\" \"mailto:x\";\n\
         if header :list \"from\" \"${book}\" { keep; }\n",
    );
    assert!(c.lists.is_empty());
}

#[test]
fn list_rules_of_rfc_6134() {
    // 2.2: no comparator with :list.
    let e = err(
        "require \"extlists\";\nif header :list :comparator \"i;octet\" \"from\" \":addrbook:default\" { keep; }\n",
    );
    assert_eq!(e.line, 2);
    assert!(e.message.contains("comparator"), "{e}");
    // 2.2: :list with a test that does not support it is an error.
    let e = err(
        "require [\"extlists\", \"imap4flags\"];\nif hasflag :list \":addrbook:default\" { keep; }\n",
    );
    assert_eq!(e.line, 2);
    assert!(
        e.message.contains(":list is not supported by hasflag"),
        "{e}"
    );
}

#[test]
fn redirect_list_is_checked_and_warned_about() {
    let c = ok("require \"extlists\";\nredirect :list \":addrbook:friends\";\n");
    assert_eq!(c.lists, vec![ExtListName::AddressBook("friends".into())]);
    assert_eq!(c.warnings.len(), 1);
    assert_eq!((c.warnings[0].line, c.warnings[0].column), (2, 16));
    assert!(
        c.warnings[0].message.contains("at most 50"),
        "{:?}",
        c.warnings
    );

    let e = err("require \"extlists\";\nredirect :list \"ldap://x/y\";\n");
    assert_eq!((e.line, e.column), (2, 16));
    // A plain redirect's address is not a list name.
    assert!(ok("redirect \"a@example.org\";\n").warnings.is_empty());
}

#[test]
fn valid_ext_list_with_an_unsupported_name_is_a_warning() {
    let c = ok(
        "require \"extlists\";\nif valid_ext_list [\":addrbook:default\", \"mailto:x@example.org\"] { keep; }\n",
    );
    assert_eq!(c.lists, vec![ExtListName::AddressBook("default".into())]);
    assert_eq!(c.warnings.len(), 1);
    assert!(c.warnings[0].message.contains("valid_ext_list is false"));
}

#[test]
fn list_names_in_comments_and_other_strings_are_ignored() {
    let c = ok(
        "require [\"extlists\", \"vacation\"];\n# header :list \"from\" \"mailto:x\"\n\
         /* redirect :list \"mailto:x\"; */\n\
         vacation text:\n:list \"mailto:x\"\n.\n;\n",
    );
    assert!(c.lists.is_empty());
    assert!(c.warnings.is_empty());
}

#[test]
fn script_size_follows_the_config() {
    let small = SieveSettings {
        max_script_size: 100,
        ..SieveSettings::default()
    };
    let script = format!("# {}\nkeep;\n", "x".repeat(200));
    let e = compile(&small, script.as_bytes()).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.to_string().contains("at most 100"), "{e}");

    // A megabyte script with one long string compiles under the default limit.
    let body = "y".repeat(1000 * 1000);
    let script = format!("require \"vacation\";\nvacation \"{body}\";\n");
    assert!(script.len() <= settings().max_script_size);
    ok(&script);
}

#[test]
fn scan_never_panics_on_garbage() {
    let inputs: Vec<Vec<u8>> = vec![
        b"\xff\xfe".to_vec(),
        b"require \"\xff\";".to_vec(),
        b"\0\0".to_vec(),
        b"text:".to_vec(),
        b"if header :list \"from\" [".to_vec(),
    ];
    for input in inputs {
        let _ = compile(&settings(), &input);
        let _ = scan::check(&input, EXTENSIONS, 1);
    }
}

#[test]
fn compiler_panics_become_errors() {
    // A match variable as the value of a :list string test trips a debug
    // assertion in the compiler; whatever the build, compile() returns.
    let script = "require [\"extlists\", \"variables\"];\n\
                  if string :list \"${1}\" \":addrbook:default\" { keep; }\n";
    let _ = compile(&settings(), script.as_bytes());
}
