use super::*;
use proptest::prelude::*;

/// A log held in memory as the database will hold it: stored hashes by index.
fn log_of(leaves: u64) -> Hashes {
    let mut stored = Hashes::default();
    for n in 0..leaves {
        let leaf = record_hash(format!("audit row {n}").as_bytes());
        let new = stored_hashes_for_record_hash(n, leaf, &stored).unwrap();
        let first = stored.0.len() as u64;
        assert_eq!(first, stored_hash_count(n), "appended in order");
        for (i, h) in new.into_iter().enumerate() {
            stored.0.insert(first + i as u64, h);
        }
    }
    stored
}

/// Only the hashes `needed` names, as the database would return them.
fn fetched(all: &Hashes, indexes: &[u64]) -> Hashes {
    Hashes(indexes.iter().map(|i| (*i, all.0[i])).collect())
}

#[test]
fn the_root_of_a_known_tree_is_rfc_6962s() {
    // RFC 6962 §2.1: the empty tree's hash is SHA-256 of nothing; one leaf is H(0x00 || leaf).
    let stored = log_of(0);
    assert_eq!(
        tree_hash(0, &stored).unwrap().to_string(),
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
    let one = record_hash(b"");
    assert_eq!(
        one.to_string(),
        "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        "H(0x00)"
    );
}

proptest! {
    /// Every leaf is in every later tree, and every tree extends every earlier one, with proofs
    /// made only from the stored hashes `needed` names.
    #[test]
    fn proofs_hold_and_read_only_what_they_name(size in 1u64..300, a in 0u64..300, b in 0u64..300) {
        let all = log_of(size);
        let (leaf, older) = (a % size, 1 + b % size);
        let root = tree_hash(size, &fetched(&all, &needed(|r| tree_hash(size, r)))).unwrap();
        let proof = prove_record(size, leaf, &fetched(&all, &needed(|r| prove_record(size, leaf, r)))).unwrap();
        let leaf_hash = record_hash(format!("audit row {leaf}").as_bytes());
        prop_assert!(check_record(&proof, size, root, leaf, leaf_hash).is_ok());
        let other = record_hash(b"a row that was never appended");
        prop_assert!(check_record(&proof, size, root, leaf, other).is_err());

        let older_root = tree_hash(older, &all).unwrap();
        let proof = prove_tree(size, older, &fetched(&all, &needed(|r| prove_tree(size, older, r)))).unwrap();
        prop_assert!(check_tree(&proof, size, root, older, older_root).is_ok());
        let rewritten = tree_hash(older, &log_of_tampered(older)).unwrap();
        prop_assert!(check_tree(&proof, size, root, older, rewritten).is_err());
    }
}

proptest! {
    /// Streaming the leaves through a `TreeBuilder` gives the stored hashes, in index order,
    /// and the root of every size: what `kyb audit verify` relies on.
    #[test]
    fn a_builder_recomputes_the_stored_tree(size in 1u64..300) {
        let all = log_of(size);
        let mut builder = TreeBuilder::default();
        prop_assert_eq!(builder.root(), None);
        let mut index = 0u64;
        for n in 0..size {
            for h in builder.push(record_hash(format!("audit row {n}").as_bytes())) {
                prop_assert_eq!(Some(&h), all.0.get(&index), "stored hash {}", index);
                index += 1;
            }
            prop_assert_eq!(builder.size(), n + 1);
            prop_assert_eq!(builder.root(), Some(tree_hash(n + 1, &all).unwrap()));
        }
        prop_assert_eq!(index, stored_hash_count(size));
    }
}

/// The same log with its first row changed: a rewritten history.
fn log_of_tampered(leaves: u64) -> Hashes {
    let mut stored = Hashes::default();
    for n in 0..leaves {
        let text = if n == 0 {
            "rewritten".to_owned()
        } else {
            format!("audit row {n}")
        };
        let new = stored_hashes_for_record_hash(n, record_hash(text.as_bytes()), &stored).unwrap();
        let first = stored.0.len() as u64;
        for (i, h) in new.into_iter().enumerate() {
            stored.0.insert(first + i as u64, h);
        }
    }
    stored
}

#[test]
fn a_checkpoint_is_signed_by_the_servers_key_alone() {
    let key = CheckpointKey::derive(b"server secret", "kyb.example/audit/plat_1").unwrap();
    let again = CheckpointKey::derive(b"server secret", "kyb.example/audit/plat_1").unwrap();
    assert_eq!(
        key.verifier_key(),
        again.verifier_key(),
        "derived, not random"
    );
    assert!(key.verifier_key().starts_with("kyb.example/audit/plat_1+"));
    let root = tree_hash(5, &log_of(5)).unwrap();
    let note = key.sign(5, root).unwrap();
    // The body is the C2SP checkpoint: origin, size, base64 root; then the signature line.
    let mut lines = note.lines();
    assert_eq!(lines.next(), Some("kyb.example/audit/plat_1"));
    assert_eq!(lines.next(), Some("5"));
    assert_eq!(lines.next(), Some(root.to_string().as_str()));
    assert_eq!(lines.next(), Some(""));
    assert!(lines
        .next()
        .unwrap()
        .starts_with("— kyb.example/audit/plat_1 "));

    let opened = open_checkpoint(&note, key.verifier_key()).unwrap();
    assert_eq!((opened.size(), *opened.hash()), (5, root));

    // Another secret (a database rewritten and re-signed by someone without ours) fails; so
    // does a changed size or root.
    let forger = CheckpointKey::derive(b"another secret", "kyb.example/audit/plat_1").unwrap();
    let forged = forger.sign(6, root).unwrap();
    assert!(open_checkpoint(&forged, key.verifier_key()).is_err());
    let edited = note.replacen("\n5\n", "\n6\n", 1);
    assert!(open_checkpoint(&edited, key.verifier_key()).is_err());
    // A checkpoint of another platform's log is not this one's, even with the same secret.
    let other = CheckpointKey::derive(b"server secret", "kyb.example/audit/plat_2").unwrap();
    assert!(open_checkpoint(&other.sign(5, root).unwrap(), key.verifier_key()).is_err());
    // Each log has its own key, not one key under many names.
    let key_of = |k: &CheckpointKey| k.verifier_key().rsplit('+').next().unwrap().to_owned();
    assert_ne!(key_of(&key), key_of(&other));
}

/// Go's `golang.org/x/mod/sumdb/note` test vectors: what it signed, we verify.
#[test]
fn notes_signed_by_go_verify() {
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let msg = "If you think cryptography is the answer to your problem,\n\
               then you don't know what your problem is.\n\
               \n\
               — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    let verifier = StandardVerifier::new(vkey).unwrap();
    let note = Note::from_bytes(msg.as_bytes()).unwrap();
    assert!(note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .is_ok());
    let tampered = msg.replace("answer", "question");
    let verifier = StandardVerifier::new(vkey).unwrap();
    let note = Note::from_bytes(tampered.as_bytes()).unwrap();
    assert!(note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .is_err());
}
