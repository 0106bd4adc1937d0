package control

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"syscall"
)

// Peer is the process at the other end of the socket, as the kernel saw it
// when it connected (SO_PEERCRED): it cannot be claimed by the client.
type Peer struct {
	UID, GID uint32
	PID      int32
}

// String names the peer for the audit trail: "uid 1000 (alice)".
func (p Peer) String() string { return Who(p.UID) }

// Who names a user for the audit trail: "uid 1000 (alice)", or "uid 1000"
// when the user database has no name for it.
func Who(uid uint32) string {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil || u.Username == "" {
		return fmt.Sprintf("uid %d", uid)
	}
	return fmt.Sprintf("uid %d (%s)", uid, u.Username)
}

// peerOf reads the credentials of the process that connected conn.
func peerOf(conn *net.UnixConn) (Peer, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return Peer{}, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return Peer{}, err
	}
	if credErr != nil {
		return Peer{}, fmt.Errorf("read peer credentials: %w", credErr)
	}
	return Peer{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, nil
}
