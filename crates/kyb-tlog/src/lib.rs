//! kyb's transparency log primitives: each platform's audit rows become
//! the leaves of an append-only RFC 6962 Merkle tree, published as signed checkpoints that
//! tools kyb did not write can check.
//!
//! - The tree is Go's sumdb `tlog` design, as `tlog_tiles` (Cloudflare's port, the same code that
//!   backs their CT logs) implements it: a leaf's hash and the hashes of every complete subtree
//!   are stored once, by *stored hash index*, as leaves are appended; roots, inclusion proofs and
//!   consistency proofs are computed from a handful of stored hashes. The storage is a database
//!   table, read asynchronously: [`needed`] says which stored hashes a computation reads, so a
//!   caller fetches exactly those and runs it again over a [`Hashes`] map.
//! - A checkpoint is a `c2sp.org/tlog-checkpoint` body (origin, size, base64 root) in a
//!   `c2sp.org/signed-note` signed with Ed25519 (`signed_note`), verifiable with Go's
//!   `golang.org/x/mod/sumdb/note` or any other implementation of the specification.
//! - The signing key is derived from the server's secret ([`CheckpointKey::derive`]): it is never
//!   in the database, so write access to the database cannot forge a checkpoint.

use hmac::{Hmac, Mac};
use signed_note::{Note, Signer, StandardSigner, StandardVerifier, VerifierList};
use std::collections::BTreeMap;
use std::sync::Mutex;

pub use tlog_tiles::tlog::Error as TreeError;
pub use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, record_hash, stored_hash_count,
    stored_hashes_for_record_hash, tree_hash, Checkpoint, Hash, HashReader, RecordProof, TreeProof,
};

/// What can go wrong reading or checking the log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the tree: {0}")]
    Tree(#[from] tlog_tiles::tlog::Error),
    #[error("the checkpoint is malformed")]
    MalformedCheckpoint,
    #[error("the checkpoint's signature: {0}")]
    Note(String),
    #[error("the checkpoint is for {found}, not {expected}")]
    WrongOrigin { expected: String, found: String },
}

/// Stored hashes by index, read from the database: what a tree computation reads.
#[derive(Debug, Default, Clone)]
pub struct Hashes(pub BTreeMap<u64, Hash>);

impl HashReader for Hashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        indexes
            .iter()
            .map(|i| {
                self.0
                    .get(i)
                    .copied()
                    .ok_or(tlog_tiles::tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Records the indexes a computation asks for, and answers none of them (see [`needed`]).
#[derive(Default)]
pub struct Recorder(Mutex<Vec<u64>>);

impl HashReader for Recorder {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(indexes);
        Err(tlog_tiles::tlog::Error::IndexesNotInTree)
    }
}

/// The stored hash indexes `compute` reads: run it once with a reader that records them (the
/// tree functions read in one call), fetch those, and run it again over [`Hashes`].
pub fn needed<T>(
    compute: impl FnOnce(&Recorder) -> Result<T, tlog_tiles::tlog::Error>,
) -> Vec<u64> {
    let recorder = Recorder::default();
    let _ = compute(&recorder);
    let mut indexes = recorder.0.into_inner().expect("not poisoned");
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

/// A tree recomputed from its leaves in order, in memory that grows with the logarithm of its
/// size (the complete subtrees along its right edge): what a verifier streams a log through.
///
/// Each leaf yields the stored hashes it adds, in stored-hash-index order (its own hash, then
/// the hash of each subtree it completes), so they can be compared with the stored ones as
/// they come; [`TreeBuilder::root`] is the root of the tree so far.
#[derive(Debug, Default, Clone)]
pub struct TreeBuilder {
    size: u64,
    /// (height, hash) of each complete subtree on the right edge, largest first.
    edge: Vec<(u32, Hash)>,
}

impl TreeBuilder {
    /// How many leaves were pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf whose record hash is `leaf`; the stored hashes it adds, by index from
    /// `stored_hash_count(size before)`.
    pub fn push(&mut self, leaf: Hash) -> Vec<Hash> {
        let mut added = vec![leaf];
        self.edge.push((0, leaf));
        while let [.., (hl, left), (hr, right)] = self.edge[..] {
            if hl != hr {
                break;
            }
            let parent = tlog_tiles::tlog::node_hash(left, right);
            self.edge.truncate(self.edge.len() - 2);
            self.edge.push((hl + 1, parent));
            added.push(parent);
        }
        self.size += 1;
        added
    }

    /// The root of the tree of the leaves pushed so far (RFC 6962 MTH); `None` while empty.
    pub fn root(&self) -> Option<Hash> {
        let mut subtrees = self.edge.iter().rev().map(|(_, h)| *h);
        let last = subtrees.next()?;
        Some(subtrees.fold(last, |right, left| tlog_tiles::tlog::node_hash(left, right)))
    }
}

/// The key that signs a platform's checkpoints.
pub struct CheckpointKey {
    signer: StandardSigner,
    verifier_key: String,
}

impl CheckpointKey {
    /// The key named `name` (the log's origin, e.g. `kyb.example.com/audit/plat_…`), derived
    /// from the server secret: the same secret always gives the same key, and nothing of it is
    /// stored.
    pub fn derive(server_secret: &[u8], name: &str) -> Result<Self, Error> {
        use base64::Engine;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(server_secret)
            .expect("HMAC takes a key of any length");
        // The name is part of the input, so each log has its own key: a key that leaks from
        // one log (or one a platform was told) signs nothing of another.
        mac.update(b"kyb audit checkpoint signing key, v1\n");
        mac.update(name.as_bytes());
        let seed: [u8; 32] = mac.finalize().into_bytes().into();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier_key = signed_note::new_ed25519_verifier_key(name, &signing.verifying_key());
        // The signed-note key format: PRIVATE+KEY+name+id+base64(alg || seed).
        let id = verifier_key
            .split('+')
            .nth(1)
            .ok_or_else(|| Error::Note("a key name may not hold '+' or spaces".into()))?;
        let mut private = vec![1u8];
        private.extend_from_slice(&seed);
        let skey = format!(
            "PRIVATE+KEY+{name}+{id}+{}",
            base64::engine::general_purpose::STANDARD.encode(private)
        );
        let signer = StandardSigner::new(&skey).map_err(|e| Error::Note(e.to_string()))?;
        Ok(Self {
            signer,
            verifier_key,
        })
    }

    /// The public key as signed-note verifiers read it: `name+id+base64(alg || key)`.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The signed checkpoint of the tree of `size` leaves with root `root`.
    pub fn sign(&self, size: u64, root: Hash) -> Result<String, Error> {
        let body = Checkpoint::new(self.signer.name(), size, root, "")
            .map_err(|_| Error::MalformedCheckpoint)?;
        let mut note = Note::new(&body.to_bytes(), &[]).map_err(|e| Error::Note(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| Error::Note(e.to_string()))?;
        String::from_utf8(note.to_bytes()).map_err(|e| Error::Note(e.to_string()))
    }
}

/// Opens a signed checkpoint with the log's public key: its size and root, if the signature is
/// the key's and the origin is the key's name.
pub fn open_checkpoint(note: &str, verifier_key: &str) -> Result<Checkpoint, Error> {
    let verifier = StandardVerifier::new(verifier_key).map_err(|e| Error::Note(e.to_string()))?;
    let expected = signed_note::Verifier::name(&verifier).to_owned();
    let note = Note::from_bytes(note.as_bytes()).map_err(|e| Error::Note(e.to_string()))?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .map_err(|e| Error::Note(e.to_string()))?;
    let checkpoint = Checkpoint::from_bytes(note.text()).map_err(|_| Error::MalformedCheckpoint)?;
    if checkpoint.origin() != expected {
        return Err(Error::WrongOrigin {
            expected,
            found: checkpoint.origin().to_owned(),
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests;
