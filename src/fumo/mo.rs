//! The FUMO management object in the device's tree (reference §5.1).
//!
//! The object sits at a configurable URI, the `<x>` of the spec: dmsim's default is `./FUMO/Pkg1`;
//! Samsung devices use `./FUMO` itself, Verizon `./ManagedObjects/FUMO/<x>`. Its interior node
//! carries the MO type `urn:oma:mo:oma-fumo:1.0`; the Exec targets (Download, Update,
//! DownloadAndUpdate) are interior nodes, as every implementation treats them; State starts at 10.

use crate::protocol::fumo::{FumoState, Operation};
use crate::tree::{Access, Format, Node, Tree, TreeError};

/// The MO type of `<x>`.
pub const MO_TYPE: &str = "urn:oma:mo:oma-fumo:1.0";
/// Where the object sits when a scenario does not say.
pub const DEFAULT_ROOT: &str = "./FUMO/Pkg1";

/// Mount an empty FUMO object at `root`, writable by `server_id`.
pub fn install(tree: &mut Tree, root: &str, server_id: &str) -> Result<(), TreeError> {
    let acl = format!("Get={server_id}&Replace={server_id}&Exec={server_id}");
    let read = Access::GET;
    tree.insert(
        root,
        Node::interior()
            .access(read)
            .acl(acl.as_str())
            .mime(MO_TYPE)
            .permanent(),
    )?;
    let leaf = |access: Access, format: Format| Node::leaf(format, "").access(access).permanent();
    tree.insert(&format!("{root}/PkgName"), leaf(read, Format::Chr))?;
    tree.insert(&format!("{root}/PkgVersion"), leaf(read, Format::Chr))?;
    for op in [
        Operation::Download,
        Operation::Update,
        Operation::DownloadAndUpdate,
    ] {
        let node = format!("{root}/{}", op.node());
        tree.insert(
            &node,
            Node::interior()
                .access(Access::GET | Access::EXEC)
                .permanent(),
        )?;
        match op {
            Operation::Update => tree.insert(
                &format!("{node}/PkgData"),
                leaf(Access::REPLACE, Format::Bin),
            )?,
            _ => tree.insert(
                &format!("{node}/PkgURL"),
                leaf(read | Access::REPLACE, Format::Chr),
            )?,
        }
    }
    let state = FumoState::Idle.value().to_string();
    tree.insert(
        &format!("{root}/State"),
        Node::leaf(Format::Int, state).access(read).permanent(),
    )?;
    tree.insert(
        &format!("{root}/Ext"),
        Node::interior().access(read).permanent(),
    )?;
    Ok(())
}

/// The URI of a node of the object.
pub fn node(root: &str, name: &str) -> String {
    format!("{root}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{Item, Location, StatusCode};
    use crate::tree::UriLimits;

    fn item(uri: &str) -> Item {
        Item {
            target: Some(Location::uri(uri)),
            ..Item::default()
        }
    }

    #[test]
    fn the_object_has_every_node_with_its_access() {
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, DEFAULT_ROOT, "srv").expect("mounts");
        assert_eq!(tree.value_str("./FUMO/Pkg1/State"), Some("10"));
        assert_eq!(
            tree.node("./FUMO/Pkg1").and_then(|n| n.mime_type()),
            Some(MO_TYPE)
        );
        for uri in [
            "./FUMO/Pkg1/Download",
            "./FUMO/Pkg1/Update",
            "./FUMO/Pkg1/DownloadAndUpdate",
        ] {
            assert!(tree.check_exec("srv", &item(uri)).is_ok(), "{uri}");
        }
        assert_eq!(
            tree.check_exec("srv", &item("./FUMO/Pkg1/State")),
            Err(StatusCode::CommandNotAllowed)
        );
        assert_eq!(
            tree.check_exec("other", &item("./FUMO/Pkg1/Update")),
            Err(StatusCode::PermissionDenied)
        );
        let mut url = item("./FUMO/Pkg1/DownloadAndUpdate/PkgURL");
        url.data = Some(crate::syncml::Data::Text(
            "https://dl.example/fw.pkg".into(),
        ));
        assert_eq!(tree.replace("srv", &url, None, 0), StatusCode::Ok);
        let mut state = item("./FUMO/Pkg1/State");
        state.data = Some(crate::syncml::Data::Text("100".into()));
        assert_eq!(
            tree.replace("srv", &state, None, 0),
            StatusCode::CommandNotAllowed
        );
    }

    #[test]
    fn a_samsung_style_root_works_too() {
        let mut tree = Tree::new(UriLimits::default());
        install(&mut tree, "./FUMO", "srv").expect("mounts");
        assert_eq!(tree.value_str("./FUMO/State"), Some("10"));
    }
}
