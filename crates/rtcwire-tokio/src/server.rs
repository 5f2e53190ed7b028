//! [`Server`]: many sessions on one UDP socket, for servers.

use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::driver::{Cmd, Conn, Driver, Guard};
use crate::peer::{bind_all, new_session, Events};
use crate::{Config, Error, PeerConnection};

/// Sessions sharing one UDP socket and one task: datagrams go to the session whose
/// [`accepts`](rtcwire::PeerConnection::accepts) takes them (a STUN check by the ufrag in
/// its USERNAME, anything else by the 5-tuple of a candidate pair), remembered by remote
/// address. Every session's host candidate is the socket's address, so bind a specific
/// one (`0.0.0.0` is refused: the candidate must name the address peers reach). With
/// [`Config::ice_lite`] the sessions are ICE-lite agents, the usual choice for a server
/// with a public address.
///
/// The task ends when the server and every session of it are dropped.
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    cmd: mpsc::UnboundedSender<Cmd>,
    local: SocketAddr,
    config: Config,
    next_key: AtomicU64,
    sessions: Arc<AtomicUsize>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.inner.local)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Binds the shared socket on `addr` (port 0 picks one). `config.bind` is not used;
    /// the rest applies to every session.
    pub async fn bind(addr: SocketAddr, config: Config) -> Result<Server, Error> {
        if addr.ip().is_unspecified() {
            return Err(Error::NoAddress(
                "a server binds a specific address (its candidates name it)".into(),
            ));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let (sockets, locals) = bind_all(&[addr])?;
        let local = *locals
            .first()
            .ok_or(Error::NoAddress("bind failed".into()))?;
        let (cmd, cmd_rx) = mpsc::unbounded_channel();
        let sessions = Arc::new(AtomicUsize::new(0));
        let driver = Driver::new(sockets, locals, cmd_rx, false, Arc::clone(&sessions));
        runtime.spawn(Driver::run(Arc::new(std::sync::Mutex::new(driver))));
        Ok(Server {
            inner: Arc::new(Inner {
                cmd,
                local,
                config,
                next_key: AtomicU64::new(1),
                sessions,
            }),
        })
    }

    /// The shared socket's address.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// How many sessions the server's task holds now (closed ones are freed once their
    /// last datagrams are out).
    #[must_use]
    pub fn sessions(&self) -> usize {
        self.inner.sessions.load(Ordering::Relaxed)
    }

    /// A new session on the shared socket (typically to answer a client's offer).
    pub fn connection(&self) -> Result<(PeerConnection, Events), Error> {
        let inner = &self.inner;
        let key = inner.next_key.fetch_add(1, Ordering::Relaxed);
        let locals: Arc<[SocketAddr]> = Arc::new([inner.local]);
        let pc = new_session(&inner.config, &locals)?;
        let guard = Arc::new(Guard {
            key,
            cmd: inner.cmd.clone(),
            direct: None,
        });
        let (conn, events, state) = Conn::new(pc, key, &guard, &inner.config);
        inner
            .cmd
            .send(Cmd::Add(key, Box::new(conn)))
            .map_err(|_| Error::Closed)?;
        Ok((
            PeerConnection::from_parts(guard, state, locals),
            Events::new(events),
        ))
    }
}
