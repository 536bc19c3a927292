//! Proptest strategies for SyncML messages, shared by the codec property tests: every element of
//! the model, Atomic and Sequence nested up to three deep, Item Data as text or opaque bytes
//! ([`without_opaque`] gives the XML view of a message); and `dmsim serve` as a child process
//! ([`served`]), and a loopback webhook receiver ([`receiver`]).

#![allow(dead_code)]

pub mod libwbxml;
pub mod receiver;
pub mod served;

use base64::Engine as _;
use dmsim::syncml::{
    Alert, AlertCode, Chal, CmdName, Command, Container, Cred, Data, Delete, Exec, Get, Item,
    ItemCommand, Location, Meta, Results, Status, StatusCode, SyncBody, SyncHdr, SyncMl,
    UnknownCommand,
};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;

/// Text of an element other than Data: non-empty, no surrounding whitespace, XML specials included.
pub fn word() -> impl Strategy<Value = String> {
    "[!-~é€中]([ !-~é€中]{0,10}[!-~é€中])?"
}

/// Data text: anything XML can carry except `\r` and control characters, whitespace anywhere.
pub fn data_text() -> impl Strategy<Value = String> {
    "[ \n\t!-~é€中]{0,24}"
}

/// Item Data: text, or opaque bytes of any value.
pub fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        data_text().prop_map(Data::Text),
        vec(any::<u8>(), 0..24).prop_map(Data::Opaque),
    ]
}

prop_compose! {
    pub fn meta()(
        format in of(word()),
        type_ in of(word()),
        mark in of(word()),
        size in of(any::<u64>()),
        next_nonce in of(word()),
        version in of(word()),
        max_msg_size in of(any::<u64>()),
        max_obj_size in of(any::<u64>()),
        emi in vec(word(), 0..3),
    ) -> Meta {
        Meta { format, type_, mark, size, next_nonce, version, max_msg_size, max_obj_size, emi }
    }
}

/// An optional Meta; an empty one is absent (the encoder omits it).
pub fn opt_meta() -> BoxedStrategy<Option<Meta>> {
    of(meta()).prop_map(|m| m.filter(|m| !m.is_empty())).boxed()
}

prop_compose! {
    pub fn location()(loc_uri in word(), loc_name in of(word())) -> Location {
        Location { loc_uri, loc_name }
    }
}

prop_compose! {
    pub fn cred()(meta in opt_meta(), data in data_text()) -> Cred {
        Cred { meta, data }
    }
}

prop_compose! {
    pub fn item()(
        target in of(location()),
        source in of(location()),
        meta in opt_meta(),
        data in of(data()),
        more_data in any::<bool>(),
    ) -> Item {
        Item { target, source, meta, data, more_data }
    }
}

pub fn items() -> BoxedStrategy<Vec<Item>> {
    vec(item(), 0..3).boxed()
}

prop_compose! {
    pub fn item_command()(
        cmd_id in word(),
        no_resp in any::<bool>(),
        cred in of(cred()),
        meta in opt_meta(),
        items in items(),
    ) -> ItemCommand {
        ItemCommand { cmd_id, no_resp, cred, meta, items }
    }
}

prop_compose! {
    pub fn delete()(
        c in item_command(),
        archive in any::<bool>(),
        sft_del in any::<bool>(),
    ) -> Delete {
        Delete {
            cmd_id: c.cmd_id,
            no_resp: c.no_resp,
            archive,
            sft_del,
            cred: c.cred,
            meta: c.meta,
            items: c.items,
        }
    }
}

prop_compose! {
    pub fn get()(c in item_command(), lang in of(word())) -> Get {
        Get { cmd_id: c.cmd_id, no_resp: c.no_resp, lang, cred: c.cred, meta: c.meta, items: c.items }
    }
}

prop_compose! {
    pub fn exec()(c in item_command(), correlator in of(word())) -> Exec {
        Exec {
            cmd_id: c.cmd_id,
            no_resp: c.no_resp,
            cred: c.cred,
            meta: c.meta,
            correlator,
            items: c.items,
        }
    }
}

prop_compose! {
    pub fn alert()(
        c in item_command(),
        code in any::<u16>(),
        correlator in of(word()),
    ) -> Alert {
        Alert {
            cmd_id: c.cmd_id,
            no_resp: c.no_resp,
            cred: c.cred,
            code: AlertCode::from_code(code),
            correlator,
            items: c.items,
        }
    }
}

pub fn cmd_name() -> impl Strategy<Value = CmdName> {
    let known = select(vec![
        "SyncHdr", "Add", "Replace", "Copy", "Delete", "Get", "Exec", "Alert", "Atomic",
        "Sequence", "Status", "Results",
    ]);
    prop_oneof![
        known.prop_map(CmdName::parse),
        word().prop_map(|w| CmdName::parse(&w))
    ]
}

prop_compose! {
    pub fn status()(
        cmd_id in word(),
        msg_ref in word(),
        cmd_ref in word(),
        cmd in cmd_name(),
        target_refs in vec(word(), 0..3),
        source_refs in vec(word(), 0..3),
        cred in of(cred()),
        chal in of(prop_oneof![Just(Meta::default()), meta()].prop_map(|meta| Chal { meta })),
        code in any::<u16>(),
        items in items(),
    ) -> Status {
        Status {
            cmd_id,
            msg_ref,
            cmd_ref,
            cmd,
            target_refs,
            source_refs,
            cred,
            chal,
            code: StatusCode::from_code(code),
            items,
        }
    }
}

prop_compose! {
    pub fn results()(
        cmd_id in word(),
        msg_ref in of(word()),
        cmd_ref in word(),
        meta in opt_meta(),
        target_ref in of(word()),
        source_ref in of(word()),
        items in items(),
    ) -> Results {
        Results { cmd_id, msg_ref, cmd_ref, meta, target_ref, source_ref, items }
    }
}

prop_compose! {
    pub fn unknown()(
        name in select(vec!["Sync", "Put", "Map", "Search", "Move"]),
        cmd_id in prop_oneof![Just(String::new()), word()],
    ) -> UnknownCommand {
        UnknownCommand { name: name.to_string(), cmd_id }
    }
}

/// Every command kind except Atomic and Sequence. Boxed (as are `items` and `opt_meta`) so that the
/// nested strategy types stay small enough for a debug build's test-thread stack.
pub fn leaf_command() -> BoxedStrategy<Command> {
    prop_oneof![
        item_command().prop_map(Command::Add).boxed(),
        item_command().prop_map(Command::Replace).boxed(),
        item_command().prop_map(Command::Copy).boxed(),
        delete().prop_map(Command::Delete).boxed(),
        get().prop_map(Command::Get).boxed(),
        exec().prop_map(Command::Exec).boxed(),
        alert().prop_map(Command::Alert).boxed(),
        status().prop_map(Command::Status).boxed(),
        results().prop_map(Command::Results).boxed(),
        unknown().prop_map(Command::Unknown).boxed(),
    ]
    .boxed()
}

/// Any command, with Atomic and Sequence nested up to three deep.
pub fn command() -> impl Strategy<Value = Command> {
    leaf_command().prop_recursive(3, 24, 4, |inner| {
        let container = (word(), any::<bool>(), opt_meta(), vec(inner, 0..4))
            .prop_map(|(cmd_id, no_resp, meta, commands)| Container {
                cmd_id,
                no_resp,
                meta,
                commands,
            })
            .boxed();
        prop_oneof![
            container.clone().prop_map(Command::Atomic),
            container.prop_map(Command::Sequence),
        ]
    })
}

prop_compose! {
    pub fn sync_hdr()(
        ver_dtd in word(),
        ver_proto in word(),
        session_id in word(),
        msg_id in word(),
        target in location(),
        source in location(),
        resp_uri in of(word()),
        no_resp in any::<bool>(),
        cred in of(cred()),
        meta in opt_meta(),
    ) -> SyncHdr {
        SyncHdr { ver_dtd, ver_proto, session_id, msg_id, target, source, resp_uri, no_resp, cred, meta }
    }
}

prop_compose! {
    pub fn sync_ml()(
        hdr in sync_hdr(),
        commands in vec(command(), 0..5),
        final_flag in any::<bool>(),
    ) -> SyncMl {
        SyncMl { hdr, body: SyncBody { commands, final_flag } }
    }
}

/// The message with every opaque Data replaced by its text form, as the XML codec sends it: the text
/// when the bytes are XML text, else their base64 under Meta Format `b64`.
pub fn without_opaque(mut msg: SyncMl) -> SyncMl {
    text_only(&mut msg.body.commands);
    msg
}

pub fn text_only(commands: &mut [Command]) {
    for cmd in commands {
        match cmd {
            Command::Add(c) | Command::Replace(c) | Command::Copy(c) => text_items(&mut c.items),
            Command::Delete(c) => text_items(&mut c.items),
            Command::Get(c) => text_items(&mut c.items),
            Command::Exec(c) => text_items(&mut c.items),
            Command::Alert(c) => text_items(&mut c.items),
            Command::Status(c) => text_items(&mut c.items),
            Command::Results(c) => text_items(&mut c.items),
            Command::Atomic(c) | Command::Sequence(c) => text_only(&mut c.commands),
            Command::Unknown(_) => {}
        }
    }
}

pub fn text_items(items: &mut [Item]) {
    for item in items {
        if let Some(Data::Opaque(bytes)) = &item.data {
            match String::from_utf8(bytes.clone()) {
                Ok(text) if text.chars().all(dmsim::syncml::is_xml_char) => {
                    item.data = Some(Data::Text(text));
                }
                _ => {
                    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
                    item.data = Some(Data::Text(text));
                    let mut meta = item.meta.take().unwrap_or_default();
                    meta.format = Some("b64".to_string());
                    item.meta = Some(meta);
                }
            }
        }
    }
}

/// Every Item of the commands (Atomic and Sequence included), in document order.
pub fn all_items(commands: &[Command]) -> Vec<&Item> {
    let mut out = Vec::new();
    for cmd in commands {
        match cmd {
            Command::Atomic(c) | Command::Sequence(c) => out.extend(all_items(&c.commands)),
            other => out.extend(other.items()),
        }
    }
    out
}
