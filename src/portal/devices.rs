//! The portal's devices: uploaded by IMEI or serial number (`POST /devices/bulkUpload`), matched
//! to the DM devices that check in (a DM device id `IMEI:<imei>` is the device of that IMEI, any
//! other id the device of that serial number), and what the portal knows of each: its model,
//! firmware and client version as last read, its license, the attributes it was uploaded with, and
//! the client's last error (`agentError`: the E-FOTA code of its last failed report, with the
//! profile's meaning and the date).

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The most devices the portal holds (a bulk upload past it is refused).
pub const MAX_DEVICES: usize = 1_000_000;

/// One device as uploaded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Upload {
    #[serde(default)]
    pub imei: Option<String>,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// Values the portal resolves `${name}` with in a client configuration.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// The client's last error, as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentError {
    pub code: i64,
    pub message: String,
    pub at: u64,
}

/// What the portal knows of one device.
#[derive(Debug, Clone, Default)]
pub struct Device {
    pub imei: Option<String>,
    pub serial: Option<String>,
    pub model: Option<String>,
    pub group: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub license: Option<String>,
    pub firmware: Option<String>,
    pub client_version: Option<String>,
    /// When the device last checked in.
    pub seen: Option<u64>,
    pub agent_error: Option<AgentError>,
    /// The firmware the portal locked the device on.
    pub locked: Option<String>,
    /// Bytes uploaded to the data collector on day `.0` (days since the epoch).
    pub uploaded: (u64, u64),
}

/// Every device, by IMEI and by serial number.
#[derive(Debug, Default)]
pub struct Registry {
    devices: Vec<Device>,
    by_key: HashMap<String, usize>,
}

impl Registry {
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Device> {
        self.devices.get(index)
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Device> {
        self.devices.get_mut(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = (usize, &Device)> {
        self.devices.iter().enumerate()
    }

    /// The device an IMEI or serial number names.
    pub fn find(&self, key: &str) -> Option<usize> {
        self.by_key.get(key).copied()
    }

    /// The device a DM device id is: `IMEI:<imei>` is the device of that IMEI, or of the serial
    /// number a simulated device derives from it ([`crate::protocol::efota::serial_number`]); any
    /// other id is a serial number.
    pub fn of_dm_id(&self, dev_id: &str) -> Option<usize> {
        match crate::protocol::efota::imei(dev_id) {
            Some(imei) => self.find(imei).or_else(|| {
                crate::protocol::efota::serial_number(dev_id).and_then(|s| self.find(&s))
            }),
            None => self.find(dev_id),
        }
    }

    /// Add or update one uploaded device; `Err` says why it was rejected.
    pub fn upload(&mut self, upload: &Upload, license: Option<&str>) -> Result<usize, String> {
        if let Some(imei) = &upload.imei {
            if !valid_imei(imei) {
                return Err(format!(
                    "{imei:?} is not an IMEI (15 digits, Luhn check digit)"
                ));
            }
        }
        if let Some(serial) = &upload.serial_number {
            if serial.is_empty()
                || serial.len() > 32
                || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "{serial:?} is not a serial number (1 to 32 letters and digits)"
                ));
            }
        }
        let keys: Vec<&String> = upload.imei.iter().chain(&upload.serial_number).collect();
        if keys.is_empty() {
            return Err("neither imei nor serialNumber".into());
        }
        let index = match keys.iter().find_map(|k| self.find(k)) {
            Some(index) => index,
            None if self.devices.len() >= MAX_DEVICES => {
                return Err(format!("the portal holds {MAX_DEVICES} devices already"))
            }
            None => {
                self.devices.push(Device::default());
                self.devices.len() - 1
            }
        };
        let device = &mut self.devices[index];
        device.imei = upload.imei.clone().or(device.imei.take());
        device.serial = upload.serial_number.clone().or(device.serial.take());
        device.model = upload.model.clone().or(device.model.take());
        device.group = upload.group.clone().or(device.group.take());
        device.attributes.extend(upload.attributes.clone());
        if let Some(license) = license {
            device.license = Some(license.to_string());
        }
        for key in keys {
            self.by_key.insert(key.clone(), index);
        }
        Ok(index)
    }
}

/// Whether `imei` is 15 digits whose last is the Luhn check digit of the others.
pub fn valid_imei(imei: &str) -> bool {
    let digits: Vec<u32> = imei.chars().filter_map(|c| c.to_digit(10)).collect();
    if imei.len() != 15 || digits.len() != 15 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let twice = d * 2;
                twice / 10 + twice % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imeis_are_checked_by_their_luhn_digit() {
        assert!(valid_imei("356938035643809"));
        assert!(!valid_imei("356938035643808"));
        assert!(!valid_imei("35693803564380"));
        assert!(!valid_imei("35693803564380x"));
    }

    #[test]
    fn a_dm_id_finds_its_device_by_imei_or_serial() {
        let mut r = Registry::default();
        let a = r
            .upload(
                &Upload {
                    imei: Some("356938035643809".into()),
                    serial_number: None,
                    model: None,
                    group: None,
                    attributes: BTreeMap::new(),
                },
                None,
            )
            .unwrap();
        let b = r
            .upload(
                &Upload {
                    imei: None,
                    serial_number: Some("R58N123ABC".into()),
                    model: None,
                    group: None,
                    attributes: BTreeMap::new(),
                },
                None,
            )
            .unwrap();
        assert_eq!(r.of_dm_id("IMEI:356938035643809"), Some(a));
        assert_eq!(r.of_dm_id("R58N123ABC"), Some(b));
        assert_eq!(r.of_dm_id("IMEI:490154203237518"), None);
        let c = r
            .upload(
                &Upload {
                    imei: None,
                    serial_number: Some("R5C03237518".into()),
                    model: None,
                    group: None,
                    attributes: BTreeMap::new(),
                },
                None,
            )
            .unwrap();
        assert_eq!(r.of_dm_id("IMEI:490154203237518"), Some(c));
    }
}
