//! Resolving a remote `<uuid>.local` candidate (RFC 6762 one-shot query, as browsers
//! hide their addresses behind mDNS names): a socket on port 5353 in the mDNS group, the
//! query sent up to three times a second apart, the first answer for the name taken.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::UdpSocket;
use tokio::time::{Duration, Instant};

const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
const PORT: u16 = 5353;
const ATTEMPTS: u32 = 3;
const WAIT: Duration = Duration::from_secs(1);
/// Most datagrams looked at per attempt (other hosts' traffic on the group).
const MAX_DATAGRAMS: usize = 256;

fn group_socket() -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // The system's responder (avahi, a browser) may hold the port too.
    s.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    s.set_reuse_port(true)?;
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, PORT)).into())?;
    s.join_multicast_v4(&GROUP, &Ipv4Addr::UNSPECIFIED)?;
    // RFC 6762 §11: 255, so receivers can tell link-local traffic.
    s.set_multicast_ttl_v4(255)?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s.into())
}

/// The address `name` resolves to, or `None` after three unanswered queries.
pub(crate) async fn resolve(name: &str) -> Result<Option<IpAddr>, crate::Error> {
    let socket = group_socket()?;
    let mut query = Vec::with_capacity(64);
    rtcwire_ice::mdns::query(name, &mut query).map_err(rtcwire::Error::from)?;
    let mut buf = vec![0u8; 9000];
    for _ in 0..ATTEMPTS {
        socket.send_to(&query, (GROUP, PORT)).await?;
        let deadline = Instant::now() + WAIT;
        for _ in 0..MAX_DATAGRAMS {
            let Ok(r) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await else {
                break;
            };
            let (n, _) = r?;
            if let Some(Ok(Some(ip))) = buf
                .get(..n)
                .map(|m| rtcwire_ice::mdns::parse_answer(m, name))
            {
                return Ok(Some(ip));
            }
        }
    }
    Ok(None)
}
