//! Which webhook URLs may be called: `https` to public addresses only, checked when a
//! subscription is made and again at every connection (a name may resolve elsewhere by then).
//! Where the deployment allows it (the local stack), plain `http` to a loopback address too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

use crate::core::error::Input;
use crate::core::webhooks::MAX_URL_LENGTH;
use crate::{Error, Result};

/// A URL that passed the checks, and the addresses its host resolved to (all allowed).
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub addresses: Vec<SocketAddr>,
}

/// Why an address may not be called, if it may not.
pub fn blocked_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => blocked_v4(v4),
            None => blocked_v6(v6),
        },
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Some("a private address")
    } else if ip.is_link_local() {
        // 169.254.169.254, the cloud's metadata service, is one of these.
        Some("a link-local or metadata address")
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
    {
        Some("a reserved address")
    } else {
        None
    }
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() || ip.is_multicast() {
        Some("a reserved address")
    } else if (first & 0xfe00) == 0xfc00 {
        // Unique local (fd00:ec2::254 is EC2's metadata service over IPv6).
        Some("a private address")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("a link-local address")
    } else if ip.to_ipv4().is_some() || first == 0x64 && ip.segments()[1] == 0xff9b || first == 0x2002 {
        // IPv4-compatible, NAT64 and 6to4 addresses can reach private IPv4 ones.
        Some("an address that embeds an IPv4 one")
    } else {
        None
    }
}

/// Whether `ip` may be connected to under these settings for a URL of this scheme.
pub fn allowed(ip: IpAddr, scheme: &str, allow_loopback_http: bool) -> std::result::Result<(), &'static str> {
    match (scheme, blocked_reason(ip)) {
        ("http", Some("a loopback address")) if allow_loopback_http => Ok(()),
        ("http", _) => Err("plain http (only https is called)"),
        (_, Some(reason)) => Err(reason),
        (_, None) => Ok(()),
    }
}

/// Checks a subscription's URL: its form, its scheme, and every address its host resolves to.
pub async fn check_url(text: &str, allow_loopback_http: bool) -> Result<Target> {
    let refuse = |why: String| Error::invalid(Input::WebhookUrl, why);
    if text.is_empty() || text.chars().count() > MAX_URL_LENGTH {
        return Err(refuse(format!("must be 1 to {MAX_URL_LENGTH} characters")));
    }
    let url = Url::parse(text).map_err(|_| refuse("must be an absolute https URL".into()))?;
    let scheme = url.scheme().to_owned();
    if scheme != "https" && !(scheme == "http" && allow_loopback_http) {
        return Err(refuse("must be an https URL".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("must not carry a user name or password".into()));
    }
    let host = url.host_str().ok_or_else(|| refuse("must name a host".into()))?.to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses = resolve(&host, port).await.map_err(refuse)?;
    for address in &addresses {
        if let Err(reason) = allowed(address.ip(), &scheme, allow_loopback_http) {
            return Err(refuse(format!("resolves to {reason}, which is never called")));
        }
    }
    Ok(Target { url, addresses })
}

/// The addresses of `host` (a name, an IPv4 address or a bracketed IPv6 one).
async fn resolve(host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let lookup = tokio::time::timeout(std::time::Duration::from_secs(5), tokio::net::lookup_host((host, port)));
    match lookup.await {
        Ok(Ok(addresses)) => {
            let addresses: Vec<SocketAddr> = addresses.collect();
            if addresses.is_empty() { Err("names a host that does not resolve".into()) } else { Ok(addresses) }
        }
        Ok(Err(_)) => Err("names a host that does not resolve".into()),
        Err(_) => Err("names a host whose name did not resolve in time".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(err: &Error) -> String {
        format!("{err:?}")
    }

    #[tokio::test]
    async fn private_loopback_link_local_and_metadata_addresses_are_refused() {
        for url in [
            "https://127.0.0.1/h",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/h",
            "https://10.0.0.1/h",
            "https://192.168.1.1/h",
            "https://172.16.0.1/h",
            "https://100.64.0.1/h",
            "https://0.0.0.0/h",
            "https://[fd00:ec2::254]/h",
            "https://[::ffff:10.0.0.1]/h",
            "https://[fe80::1]/h",
            "https://localhost/h",
            "http://example.com/h",
            "ftp://example.com/h",
            "https://user:pw@example.com/h",
            "not a url",
            "",
        ] {
            let err = check_url(url, false).await.expect_err(url);
            assert!(field_of(&err).contains("WebhookUrl"), "{url}: {err:?}");
        }
    }

    #[tokio::test]
    async fn public_addresses_pass_and_loopback_http_only_where_allowed() {
        let target = check_url("https://93.184.215.14:8443/hook", false).await.unwrap();
        assert_eq!(target.addresses, vec!["93.184.215.14:8443".parse().unwrap()]);
        assert!(check_url("https://[2606:4700::1111]/h", false).await.is_ok());
        assert!(check_url("http://127.0.0.1:9000/h", false).await.is_err());
        assert!(check_url("http://127.0.0.1:9000/h", true).await.is_ok());
        assert!(check_url("http://localhost:9000/h", true).await.is_ok());
        // The allowance is for plain http to loopback only, not for private networks.
        assert!(check_url("http://10.0.0.1/h", true).await.is_err());
        assert!(check_url("https://127.0.0.1/h", true).await.is_err());
    }

    #[test]
    fn addresses_are_judged_by_what_they_reach() {
        assert_eq!(blocked_reason("8.8.8.8".parse().unwrap()), None);
        assert!(blocked_reason("::ffff:127.0.0.1".parse().unwrap()).is_some());
        assert!(blocked_reason("64:ff9b::a00:1".parse().unwrap()).is_some());
        assert_eq!(allowed("127.0.0.1".parse().unwrap(), "http", true), Ok(()));
        assert!(allowed("127.0.0.1".parse().unwrap(), "https", true).is_err());
    }
}
