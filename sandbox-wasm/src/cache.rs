//! On-disk cache of compiled artifacts. `Module::deserialize` trusts its input, so we only
//! load files we wrote: a header with a magic, the payload length and its SHA-256, checked
//! before use. A file that fails the check is ignored and rewritten, never trusted.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;

const MAGIC: &[u8; 12] = b"SBXCWASM\x00\x00\x00\x01";
const HEADER: usize = MAGIC.len() + 8 + 32;

#[derive(Debug, Clone)]
pub struct ArtifactCache {
    dir: PathBuf,
}

/// What a lookup found.
pub enum Lookup {
    Hit(Vec<u8>),
    Miss,
    /// There was a file but it failed validation (truncated, altered, foreign).
    Corrupt,
}

impl ArtifactCache {
    pub fn new(dir: PathBuf) -> ArtifactCache {
        ArtifactCache { dir }
    }

    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }

    pub fn get(&self, key: &str) -> Lookup {
        let Ok(bytes) = std::fs::read(self.path(key)) else {
            return Lookup::Miss;
        };
        if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
            return Lookup::Corrupt;
        }
        let len =
            u64::from_le_bytes(bytes[MAGIC.len()..MAGIC.len() + 8].try_into().unwrap()) as usize;
        let digest = &bytes[MAGIC.len() + 8..HEADER];
        let payload = &bytes[HEADER..];
        if payload.len() != len {
            return Lookup::Corrupt;
        }
        if Sha256::digest(payload).as_slice() != digest {
            return Lookup::Corrupt;
        }
        Lookup::Hit(payload.to_vec())
    }

    /// Writes atomically: a temp file in the same directory, fsynced, then renamed over.
    pub fn put(&self, key: &str, payload: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let target = self.path(key);
        let tmp = self.dir.join(format!(".{key}.{}.tmp", std::process::id()));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(MAGIC)?;
            file.write_all(&(payload.len() as u64).to_le_bytes())?;
            file.write_all(&Sha256::digest(payload))?;
            file.write_all(payload)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// When `bytes` are one of our cache files (given where a program was expected), what state
/// the file is in; `None` for anything else.
pub fn describe(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(&MAGIC[..8]) {
        return None;
    }
    if bytes.len() < HEADER {
        return Some(format!("truncated inside its {HEADER}-byte header"));
    }
    let len = u64::from_le_bytes(
        bytes[MAGIC.len()..MAGIC.len() + 8]
            .try_into()
            .unwrap_or_default(),
    );
    let have = (bytes.len() - HEADER) as u64;
    Some(if have != len {
        format!("truncated: its header promises {len} bytes of code, it holds {have}")
    } else if Sha256::digest(&bytes[HEADER..]).as_slice() != &bytes[MAGIC.len() + 8..HEADER] {
        "altered: its checksum does not match".into()
    } else {
        "intact".into()
    })
}

/// The cache key: the wasm's hash, its kind and the engine's compatibility hash.
pub fn key(wasm: &[u8], kind: &str, engine: &wasmtime::Engine) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let mut d = Sha256::new();
    d.update(wasm);
    d.update(kind.as_bytes());
    d.update(h.finish().to_le_bytes());
    d.update(env!("CARGO_PKG_VERSION").as_bytes());
    d.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
