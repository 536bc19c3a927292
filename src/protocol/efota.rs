//! The Knox E-FOTA report: how a simulated Samsung Knox E-FOTA Advanced client carries its own
//! result codes (the seed's codes, `profiles/knox-efota.toml`) over OMA-DM.
//!
//! Samsung does not publish how the real client reports them (its portal shows them as a device's
//! `agentError`), so this channel is dmsim's choice, documented in the README ("Knox E-FOTA"): a
//! Generic Alert (1226, reference §1.8) of its own type beside the OMA one. After a FUMO or SCOMO
//! operation the device sends the OMA report as the specification says (a FUMO result, a SCOMO
//! `ResultCode`) **and** an E-FOTA report with the same correlator; the E-FOTA client's own
//! operations (license, configuration) send only the E-FOTA report. A server that does not know
//! the type can ignore the item; dmsim's mock server records it.
//!
//! The item: Source the E-FOTA client's root (`./Ext/EFOTA` on the family's devices), Meta Type [`ALERT_TYPE`], Format `chr`, Mark `critical` for a
//! failure and `informational` otherwise, Data the E-FOTA code as a decimal number, or several
//! separated by one space when the first announces more (960 "a status of the content handler
//! follows", 970 "a status per file follows") or the operation was partly done (a partial install:
//! -1200 for the part done, then -1463 for the part whose device was missing; the seed's -7007).

use crate::syncml::Item;

/// The Meta Type of an E-FOTA report item (dmsim's; the real client's is not public).
pub const ALERT_TYPE: &str = "org.dmsim.knox-efota.report";

/// Most codes one report carries (a 970 with a status per file); a longer Data is not a report.
pub const MAX_CODES: usize = 64;

/// The Data of a report of `codes`.
pub fn data(codes: &[i64]) -> String {
    codes
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The codes an item reports, when its Meta Type is the E-FOTA report's and its Data one to
/// [`MAX_CODES`] decimal numbers separated by spaces.
pub fn reported_codes(item: &Item) -> Option<Vec<i64>> {
    let alert_type = item.meta.as_ref()?.type_.as_deref()?;
    if super::fumo::bare_alert_type(alert_type) != ALERT_TYPE {
        return None;
    }
    let text = item.data_text()?;
    let codes: Vec<i64> = text
        .split_ascii_whitespace()
        .take(MAX_CODES + 1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (!codes.is_empty() && codes.len() <= MAX_CODES).then_some(codes)
}

/// The IMEI of a device whose DevId is `IMEI:` and 15 digits, the form OMA DM's DevInfo gives it
/// (the Knox E-FOTA portal identifies devices by IMEI or serial number).
pub fn imei(dev_id: &str) -> Option<&str> {
    let imei = dev_id.strip_prefix("IMEI:")?;
    (imei.len() == 15 && imei.bytes().all(|b| b.is_ascii_digit())).then_some(imei)
}

/// The serial number of a device whose DevId is an IMEI ([`imei`]): `R5C` and the IMEI's last
/// eight digits. Samsung serial numbers are 11 characters starting with `R` (a factory code, the
/// year and month made, a unique part); a simulated device has none in its tree, so both ends
/// derive it from the IMEI (dmsim's choice, in the README's "Knox E-FOTA" section).
pub fn serial_number(dev_id: &str) -> Option<String> {
    let imei = imei(dev_id)?;
    Some(format!("R5C{}", &imei[7..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syncml::{Data, Meta};

    fn item(alert_type: &str, data: &str) -> Item {
        Item {
            meta: Some(Meta {
                type_: Some(alert_type.into()),
                ..Meta::default()
            }),
            data: Some(Data::Text(data.into())),
            ..Item::default()
        }
    }

    #[test]
    fn a_report_reads_back_as_its_codes() {
        assert_eq!(data(&[970, 900, -1407]), "970 900 -1407");
        assert_eq!(
            reported_codes(&item(ALERT_TYPE, &data(&[970, 900, -1407]))),
            Some(vec![970, 900, -1407])
        );
        assert_eq!(
            reported_codes(&item(ALERT_TYPE, "-2402")),
            Some(vec![-2402])
        );
    }

    #[test]
    fn what_is_not_a_report_is_not_read_as_one() {
        assert_eq!(
            reported_codes(&item(
                "org.openmobilealliance.dm.firmwareupdate.download",
                "402"
            )),
            None
        );
        assert_eq!(reported_codes(&item(ALERT_TYPE, "")), None);
        assert_eq!(reported_codes(&item(ALERT_TYPE, "12 x")), None);
        assert_eq!(
            reported_codes(&item(ALERT_TYPE, "99999999999999999999")),
            None
        );
        let too_many = vec!["1"; MAX_CODES + 1].join(" ");
        assert_eq!(reported_codes(&item(ALERT_TYPE, &too_many)), None);
    }

    #[test]
    fn the_imei_and_serial_number_come_from_an_imei_dev_id() {
        assert_eq!(imei("IMEI:356938035643809"), Some("356938035643809"));
        assert_eq!(
            serial_number("IMEI:356938035643809").as_deref(),
            Some("R5C35643809")
        );
        for not_imei in [
            "356938035643809",
            "IMEI:35693803564380",
            "IMEI:35693803564380x",
            "MEID:356938035643809",
            "IMEI:",
        ] {
            assert_eq!(imei(not_imei), None, "{not_imei}");
            assert_eq!(serial_number(not_imei), None, "{not_imei}");
        }
    }
}
