//! Durable device state: `FileStore` files (atomic replacement, crash windows, file names, errors
//! that name the path) and `MemoryStore`, with the firmware state as the payload.

use dmsim::firmware::Firmware;
use dmsim::storage::{
    load_state, save_state, FileStore, MemoryStore, Persisted, StateStore, StoreError,
};
use std::sync::Arc;

fn store() -> (FileStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    (
        FileStore::new(dir.path().join("state")).expect("store"),
        dir,
    )
}

#[test]
fn firmware_state_round_trips_through_both_stores() {
    let mut fw = Firmware::factory("1.0");
    fw.begin().expect("idle");
    let (files, _dir) = store();
    let memory = MemoryStore::new();
    for s in [&files as &dyn StateStore, &memory] {
        assert_eq!(load_state::<Firmware>(s, "dev"), Ok(None));
        save_state(s, "dev", &fw).expect("saved");
        assert_eq!(load_state::<Firmware>(s, "dev"), Ok(Some(fw.clone())));
    }
    let json = std::fs::read_to_string(files.path_of("dev")).expect("a file per device");
    assert!(json.starts_with(r#"{"format":2,"state":{"#), "{json}");
    assert!(json.contains(r#""step":"verify""#), "{json}");
}

#[test]
fn a_save_replaces_the_whole_state_and_leaves_no_temp_file() {
    let (files, _dir) = store();
    files.save("dev", b"first state, longer").expect("saved");
    files.save("dev", b"second").expect("saved");
    assert_eq!(files.load("dev"), Ok(Some(b"second".to_vec())));
    let names: Vec<_> = std::fs::read_dir(files.dir())
        .expect("listable")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(names, ["dev.json"]);
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_previous_state_readable() {
    let (files, _dir) = store();
    let old = Firmware::factory("1.0");
    save_state(&files, "dev", &old).expect("saved");
    let mut new = old.clone();
    new.begin().expect("idle");
    let bytes = Persisted::new(&new).encode().expect("encodes");
    // Crash 1: the temp file is complete and synced, the rename never happened.
    files.write_temp("dev", &bytes).expect("temp written");
    // Crash 2: a temp file cut short by the power going out while it was written.
    std::fs::write(
        files.dir().join(".dev.json.99-0.tmp"),
        &bytes[..bytes.len() / 2],
    )
    .expect("written");
    assert_eq!(load_state::<Firmware>(&files, "dev"), Ok(Some(old)));
    // The next save after the reboot goes through despite the leftovers.
    save_state(&files, "dev", &new).expect("saved");
    assert_eq!(load_state::<Firmware>(&files, "dev"), Ok(Some(new)));
}

#[test]
fn devices_get_separate_files_whatever_their_ids() {
    let (files, _dir) = store();
    let ids = [
        "IMEI:356938035643809",
        "IMEI_356938035643809",
        "../escape",
        "",
        "a/b",
        "ä",
    ];
    for (i, id) in ids.iter().enumerate() {
        files.save(id, i.to_string().as_bytes()).expect("saved");
    }
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            files.load(id),
            Ok(Some(i.to_string().into_bytes())),
            "{id:?}"
        );
        assert_eq!(files.path_of(id).parent(), Some(files.dir()), "{id:?}");
    }
    assert_eq!(
        std::fs::read_dir(files.dir()).expect("dir").count(),
        ids.len()
    );
}

#[test]
fn errors_name_the_path() {
    let (files, _dir) = store();
    // The state file's place is taken by a directory: reading and replacing it both fail.
    let path = files.path_of("dev");
    std::fs::create_dir(&path).expect("dir");
    let err = files.load("dev").expect_err("a directory is not a state");
    assert!(
        matches!(&err, StoreError::Read { path: p, .. } if *p == path),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(&path.display().to_string()),
        "{err}"
    );
    let err = files
        .save("dev", b"x")
        .expect_err("cannot rename over a directory");
    assert!(
        matches!(&err, StoreError::Write { path: p, .. } if *p == path),
        "{err}"
    );

    // Garbage in a state file: the decode error names the file.
    std::fs::write(files.path_of("other"), b"not json").expect("written");
    let err = load_state::<Firmware>(&files, "other").expect_err("garbage");
    assert!(
        err.to_string().starts_with(&format!(
            "{}: not a saved device state",
            files.path_of("other").display()
        )),
        "{err}"
    );

    // A store directory that cannot be created.
    let blocker = files.dir().join("a-file");
    std::fs::write(&blocker, b"").expect("written");
    let err = FileStore::new(blocker.join("sub")).expect_err("under a file");
    assert!(err.to_string().contains("a-file"), "{err}");
}

#[test]
fn a_memory_store_serves_many_devices_from_many_threads() {
    let store = Arc::new(MemoryStore::new());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for d in 0..50 {
                    let id = format!("dev-{t}-{d}");
                    let fw = Firmware::factory(format!("{t}.{d}"));
                    save_state(store.as_ref(), &id, &fw).expect("saved");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    assert_eq!(store.len(), 400);
    let fw: Option<Firmware> = load_state(store.as_ref(), "dev-7-49").expect("readable");
    assert_eq!(fw.map(|f| f.version().to_string()), Some("7.49".into()));
}

/// A device that powers on again from its saved state goes on counting its SessionIDs: a server
/// that keys sessions on (device, SessionID) never sees an old id come back.
#[test]
fn the_session_id_counter_survives_a_restart() {
    let file = dmsim::scenario::load::parse(std::path::Path::new("ids.toml"), "name = \"ids\"\n")
        .expect("valid")
        .file;
    let (store, _dir) = store();
    let mut device = dmsim::scenario::build_device(&file).expect("device");
    device.flash(&store).expect("flash");
    assert_eq!(device.next_session_id(), "1");
    assert_eq!(device.next_session_id(), "2");
    assert_eq!(
        device.save(&store).expect("save"),
        dmsim::device::Saved::Landed
    );
    // The same device, built afresh as a new run would, and started from what it saved.
    let mut again = dmsim::scenario::build_device(&file).expect("device");
    again.reboot(&store).expect("reboot");
    assert_eq!(again.next_session_id(), "3");
}
