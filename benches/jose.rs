//! Decrypt + validate of a nested ID token (RSA-OAEP-256 + A256GCM around an RS256 JWS) against
//! the raw operations it is made of (issue 14). Alternated rounds (the order rotates each round),
//! the median of `OIDC_BENCH_ROUNDS` rounds (default 31) of thread CPU time per call:
//!
//! * `liboidc`: `validate_id_token` of the nested token through a protocol client (static JWKS,
//!   the client's RSA decryption key): parse, RSA-OAEP-256 unwrap, AES-256-GCM decrypt, nested
//!   parse, RS256 verify, claims, the OpenID Connect checks;
//! * `raw`: the same three cryptographic operations straight on aws-lc-rs with keys parsed once
//!   (RSA-OAEP-256 decrypt of the encrypted key, AES-256-GCM open of the ciphertext, RS256
//!   verify of the inner signature) and nothing else: no parsing, no JSON, no checks;
//! * `liboidc signed`: `validate_id_token` of the same ID token unencrypted (what encryption adds).
//!
//!     cargo bench --bench jose

#[path = "common/mod.rs"]
mod common;
use common::{median, per_call};

use std::hint::black_box;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
use oidc::core::KeySource;
use oidc::core::jose::jwe::{self, ContentEnc, DecryptionKey, DecryptionKeys, KeyAlg};
use oidc::core::oauth::{ClientAuth, IdTokenChecks, OAuthClient, OAuthConfig, validate_id_token};
use oidc_testkit::keys::{self, Alg, TestKey};
use serde_json::{Map, json};

const ISSUER: &str = "https://bench.jose.test";
const ENC_PEM: &str = include_str!("../tests/idp/client-keys/enc-rsa.pem");

fn b64d(s: &str) -> Vec<u8> {
    keys::b64_decode(s).unwrap()
}

fn main() {
    let rounds = std::env::var("OIDC_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(31usize);
    let n = std::env::var("OIDC_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200u64);
    let signer = TestKey::generate(Alg::RS256);
    let mut claims = keys::claims(ISSUER, "rp-1", "alice", 3600);
    claims["nonce"] = json!("n-1");
    let id_token = signer.sign(&claims);
    let dk = DecryptionKey::from_text(ENC_PEM, None).unwrap();
    let mut h = Map::new();
    h.insert("cty".into(), json!("JWT"));
    let nested = jwe::encrypt(id_token.as_bytes(), &dk.encryption_key().unwrap(), KeyAlg::RsaOaep256, ContentEnc::A256Gcm, &h).unwrap();

    let mut cfg = OAuthConfig::new(ISSUER, "rp-1", ClientAuth::None);
    cfg.base.key_source = KeySource::Static(keys::jwks(&[&signer]));
    let mut ks = DecryptionKeys::new();
    ks.push(dk).unwrap();
    cfg.base.decryption_keys = ks;
    let client = OAuthClient::new(cfg).unwrap();
    let checks = IdTokenChecks { nonce: Some("n-1"), ..Default::default() };
    validate_id_token(&client, &nested, &checks).expect("nested ID token validates");
    validate_id_token(&client, &id_token, &checks).expect("signed ID token validates");

    // The raw operations, keys parsed once.
    let der = {
        let pem = ENC_PEM.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(pem).unwrap()
    };
    let rsa = OaepPrivateDecryptingKey::new(PrivateDecryptingKey::from_pkcs8(&der).unwrap()).unwrap();
    let seg: Vec<&str> = nested.split('.').collect();
    let (ek, iv, ct, tag) = (b64d(seg[1]), b64d(seg[2]), b64d(seg[3]), b64d(seg[4]));
    let aad = seg[0].as_bytes().to_vec();
    let inner: Vec<&str> = id_token.split('.').collect();
    let signing_input = format!("{}.{}", inner[0], inner[1]);
    let sig = b64d(inner[2]);
    let pubkey = {
        let jwk = signer.public_jwk();
        let n = b64d(jwk["n"].as_str().unwrap());
        let e = b64d(jwk["e"].as_str().unwrap());
        aws_lc_rs::rsa::PublicKeyComponents { n, e }
    };
    let raw = || {
        let mut cek = [0u8; 512];
        let cek = rsa.decrypt(&OAEP_SHA256_MGF1SHA256, &ek, &mut cek, None).unwrap();
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek).unwrap());
        let mut buf = ct.clone();
        buf.extend_from_slice(&tag);
        let nonce = Nonce::try_assume_unique_for_key(&iv).unwrap();
        let pt = key.open_in_place(nonce, Aad::from(&aad), &mut buf).unwrap();
        black_box(pt.len());
        pubkey.verify(&RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &sig).unwrap();
    };
    raw();

    let names = ["liboidc nested", "raw ops", "liboidc signed"];
    let mut samples: [Vec<f64>; 3] = Default::default();
    let run = |i: usize| match i {
        0 => per_call(n, &mut || drop(black_box(validate_id_token(&client, black_box(&nested), &checks).unwrap()))),
        1 => per_call(n, &mut || raw()),
        _ => per_call(n, &mut || drop(black_box(validate_id_token(&client, black_box(&id_token), &checks).unwrap()))),
    };
    for i in 0..3 {
        run(i);
    }
    for r in 0..rounds {
        for k in 0..3 {
            let i = (r + k) % 3;
            samples[i].push(run(i));
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "jose bench: {rounds} rounds x {n} calls, thread CPU time; load average {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    let m: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
    for (name, v) in names.iter().zip(&m) {
        println!("  {name:16} {:>9.1} us/call", v / 1000.0);
    }
    println!("  nested / raw     {:>9.3}", m[0] / m[1]);
    println!("  nested - raw     {:>9.1} us (parsing, JSON, checks)", (m[0] - m[1]) / 1000.0);
    println!("  nested - signed  {:>9.1} us (what the encryption adds)", (m[0] - m[2]) / 1000.0);
}
