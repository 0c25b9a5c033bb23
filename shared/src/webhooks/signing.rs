//! Signatures of webhook deliveries: Standard Webhooks' `v1,` HMAC-SHA256 over
//! `id.timestamp.body`, and SuperOffice's HMAC-SHA256 of the body, both keyed by the bytes of the
//! subscription's `whsec_` secret.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::core::webhooks::Secret;

fn mac(secret: &Secret, parts: &[&[u8]]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.key()).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// `webhook-signature`: one `v1,<signature>` per signing secret, separated by spaces.
pub fn standard(secrets: &[&Secret], event_id: &str, timestamp: i64, body: &str) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let signed = mac(secret, &[event_id.as_bytes(), b".", timestamp.as_bytes(), b".", body.as_bytes()]);
            format!("v1,{signed}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `X-SuperOffice-Signature`: the base64 HMAC of the body per signing secret, the newest first,
/// separated by `, ` (a list, as repeated header values are).
pub fn superoffice(secrets: &[&Secret], body: &str) -> String {
    secrets.iter().map(|secret| mac(secret, &[body.as_bytes()])).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (its reference libraries' test).
    #[test]
    fn the_specifications_example_signs_as_published() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let signature = standard(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn two_secrets_give_two_signatures() {
        let (new, old) = (Secret::generate(), Secret::generate());
        let both = standard(&[&new, &old], "evt_1", 1, "{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts, [standard(&[&new], "evt_1", 1, "{}"), standard(&[&old], "evt_1", 1, "{}")]);
        assert_eq!(superoffice(&[&new, &old], "{}").split(", ").count(), 2);
    }
}
