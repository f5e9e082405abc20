//go:build !(linux && cgo)

package bench

func trimCHeap() {}
