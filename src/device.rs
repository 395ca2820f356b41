//! Devices by name, from the config's `device` key. Which backends exist is decided by cargo
//! features at build time; the name is resolved here at run time, and nowhere else in the
//! library is a backend named.

use burn::tensor::Device;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DeviceError {
    #[error("device `{name}` is not in this build (it needs cargo feature `{feature}`); this build has: {available}")]
    NotCompiled { name: String, feature: &'static str, available: String },
    #[error("unknown device `{name}`; known: flex, ndarray, libtorch, libtorch:cuda:N")]
    Unknown { name: String },
    #[error("device `{name}`: libtorch finds {found} CUDA device(s) on this machine (no NVIDIA GPU or driver?); `libtorch` runs on the CPU")]
    NoGpu { name: String, found: usize },
}

/// The device names this build can run on.
pub fn available() -> Vec<&'static str> {
    let mut out = Vec::new();
    if cfg!(feature = "flex") {
        out.push("flex");
    }
    if cfg!(feature = "ndarray") {
        out.push("ndarray");
    }
    if cfg!(feature = "tch") {
        out.extend(["libtorch", "libtorch:cuda:N"]);
    }
    out
}

/// The plain (inference) device called `name`; training wraps it with `.autodiff()`.
pub fn parse(name: &str) -> Result<Device, DeviceError> {
    let not_compiled =
        |feature| DeviceError::NotCompiled { name: name.to_string(), feature, available: available().join(", ") };
    match name {
        "flex" => {
            #[cfg(feature = "flex")]
            return Ok(Device::flex());
            #[allow(unreachable_code)]
            Err(not_compiled("flex"))
        }
        "ndarray" => {
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            return Ok(Device::ndarray());
            #[allow(unreachable_code)]
            Err(not_compiled("ndarray"))
        }
        "libtorch" | "libtorch:cpu" => {
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            return Ok(Device::libtorch());
            #[allow(unreachable_code)]
            Err(not_compiled("tch"))
        }
        _ => match name.strip_prefix("libtorch:cuda:").map(str::parse::<usize>) {
            Some(Ok(_index)) => {
                #[cfg(feature = "tch")]
                {
                    // A GPU that is not there would fail only at the first tensor, as a panic
                    // deep inside libtorch; refuse it here, by name.
                    let found = Device::enumerate(burn::tensor::DeviceType::LibTorch).len();
                    if _index >= found {
                        return Err(DeviceError::NoGpu { name: name.to_string(), found });
                    }
                    #[allow(deprecated)]
                    return Ok(Device::libtorch_cuda(_index));
                }
                #[allow(unreachable_code)]
                Err(not_compiled("tch"))
            }
            _ => Err(DeviceError::Unknown { name: name.to_string() }),
        },
    }
}
