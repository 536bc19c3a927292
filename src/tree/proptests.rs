//! Property test: arbitrary sequences of server Add / Replace / Delete / Copy and property Replace on
//! random paths never panic and keep the tree consistent.

use proptest::prelude::*;

use super::testutil::{copy_item, target, with_data, with_meta};
use super::{uri, Node, Tree, UriLimits};

#[derive(Debug, Clone)]
enum Op {
    Add {
        path: String,
        format: &'static str,
        data: String,
    },
    Replace {
        path: String,
        data: String,
    },
    Delete {
        path: String,
    },
    Copy {
        to: String,
        from: String,
    },
    Rename {
        path: String,
        name: String,
    },
}

fn path() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec!["a", "b", "c", "", ".."]);
    (prop::collection::vec(seg, 1..5), any::<bool>()).prop_map(|(segs, dotted)| {
        let joined = segs.join("/");
        if dotted {
            format!("./{joined}")
        } else {
            joined
        }
    })
}

fn op() -> impl Strategy<Value = Op> {
    let format = prop::sample::select(vec!["chr", "int", "node", "bool", "b64", "bin", "nope"]);
    let data = prop::sample::select(vec!["", "1", "x", "true", "AAE=", "long value"])
        .prop_map(str::to_string);
    let name = prop::sample::select(vec!["a", "b", "d", "", "x/y"]).prop_map(str::to_string);
    prop_oneof![
        (path(), format, data.clone()).prop_map(|(path, format, data)| Op::Add {
            path,
            format,
            data
        }),
        (path(), data).prop_map(|(path, data)| Op::Replace { path, data }),
        path().prop_map(|path| Op::Delete { path }),
        (path(), path()).prop_map(|(to, from)| Op::Copy { to, from }),
        (path(), name).prop_map(|(path, name)| Op::Rename { path, name }),
    ]
}

fn apply(tree: &mut Tree, who: &str, op: &Op) {
    match op {
        Op::Add { path, format, data } => {
            tree.add(who, &with_meta(path, data, format, None), None, 1);
        }
        Op::Replace { path, data } => {
            tree.replace(who, &with_data(path, data), None, 2);
        }
        Op::Delete { path } => {
            tree.delete(who, &target(path));
        }
        Op::Copy { to, from } => {
            tree.copy(who, &copy_item(to, from), 3);
        }
        Op::Rename { path, name } => {
            tree.replace(who, &with_data(&format!("{path}?prop=Name"), name), None, 4);
        }
    }
}

fn assert_consistent(tree: &Tree) {
    let mut used = 0;
    for key in tree.uris() {
        assert_eq!(
            uri::canonical(key).as_deref(),
            Some(key),
            "non-canonical key"
        );
        let node = tree.node(key).expect("listed node exists");
        used += node.value().len() as u64;
        if let Some(parent) = uri::parent(key) {
            let p = tree
                .node(parent)
                .unwrap_or_else(|| panic!("{key}: parent missing"));
            assert!(p.is_interior(), "{key}: parent is a leaf");
        }
        assert!(node.format().is_valid(node.value()), "{key}: invalid value");
    }
    assert!(tree.node(".").is_some_and(Node::is_interior));
    assert_eq!(tree.used_bytes(), used);
    if let Some(cap) = tree.capacity_bytes() {
        assert!(used <= cap);
    }
    // Every Get either fails with a status or answers.
    for key in tree.uris() {
        let _ = tree.get("srv", &target(&format!("{key}?list=StructData")));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5EED), ..ProptestConfig::default() })]

    #[test]
    fn random_commands_keep_the_tree_consistent(
        open_root in any::<bool>(),
        cap in prop::option::of(0u64..40),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut tree = Tree::new(UriLimits::new(4, 20, 3)).with_capacity_bytes(cap);
        if open_root {
            let root = Node::interior().acl("Add=*&Get=*&Replace=*&Delete=*").access(super::Access::ALL).permanent();
            tree.insert(".", root).expect("valid root");
        }
        for op in &ops {
            let before = tree.clone();
            apply(&mut tree, "srv", op);
            assert_consistent(&tree);
            // A second server without rights changes nothing but may still create under the root.
            let mut probe = before.clone();
            apply(&mut probe, "other", op);
            assert_consistent(&probe);
        }
    }
}
