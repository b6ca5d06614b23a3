//! Device lists.

use cpal::traits::{DeviceTrait, HostTrait};
use serde::Serialize;

use crate::error::{DevicesError, Result};

/// An input or output device as the UI lists it.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceInfo {
    /// Stable identifier (pass back to [`crate::Recorder::start`]).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    pub is_default: bool,
    /// Default configuration of the device.
    pub sample_rate: u32,
    pub channels: u16,
}

pub(crate) fn device_id(d: &cpal::Device) -> String {
    d.id()
        .map(|i| i.to_string())
        .unwrap_or_else(|_| d.to_string())
}

fn describe(d: &cpal::Device, input: bool, default_id: Option<&str>) -> Option<DeviceInfo> {
    let cfg = if input {
        d.default_input_config().ok()?
    } else {
        d.default_output_config().ok()?
    };
    let id = device_id(d);
    let name = d
        .description()
        .map(|x| x.name().to_string())
        .unwrap_or_else(|_| id.clone());
    Some(DeviceInfo {
        is_default: default_id == Some(id.as_str()),
        id,
        name,
        sample_rate: cfg.sample_rate(),
        channels: cfg.channels(),
    })
}

/// Input devices of the default host (the default one first).
pub fn input_devices() -> Result<Vec<DeviceInfo>> {
    let host = cpal::default_host();
    let default = host.default_input_device().map(|d| device_id(&d));
    let mut v: Vec<DeviceInfo> = host
        .input_devices()
        .map_err(|e| crate::error::device_err("input devices", e))?
        .filter_map(|d| describe(&d, true, default.as_deref()))
        .collect();
    if v.iter().all(|d| !d.is_default) {
        if let Some(d) = host.default_input_device() {
            if let Some(info) = describe(&d, true, default.as_deref()) {
                v.insert(0, info);
            }
        }
    }
    v.sort_by_key(|d| !d.is_default);
    Ok(v)
}

/// Output devices of the default host (the default one first).
pub fn output_devices() -> Result<Vec<DeviceInfo>> {
    let host = cpal::default_host();
    let default = host.default_output_device().map(|d| device_id(&d));
    let mut v: Vec<DeviceInfo> = host
        .output_devices()
        .map_err(|e| crate::error::device_err("output devices", e))?
        .filter_map(|d| describe(&d, false, default.as_deref()))
        .collect();
    v.sort_by_key(|d| !d.is_default);
    Ok(v)
}

/// Name of the default input device, if any.
pub fn default_input_name() -> Option<String> {
    cpal::default_host()
        .default_input_device()
        .map(|d| device_id(&d))
}

/// The input device with this id, or the default one.
pub(crate) fn find_input(id: Option<&str>) -> Result<cpal::Device> {
    let host = cpal::default_host();
    match id {
        None | Some("") | Some("default") => host
            .default_input_device()
            .ok_or(DevicesError::NoInputDevice),
        Some(id) => host
            .input_devices()
            .map_err(|e| crate::error::device_err(id, e))?
            .find(|d| device_id(d) == id)
            .ok_or_else(|| DevicesError::DeviceNotFound(id.to_string())),
    }
}

/// The default output device.
pub(crate) fn default_output() -> Result<cpal::Device> {
    cpal::default_host()
        .default_output_device()
        .ok_or(DevicesError::NoOutputDevice)
}
