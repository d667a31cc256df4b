package inventory

// idBatch collects ids once each into batches of size, for Describe calls
// that take a bounded list. It does no locking: its owner holds a mutex.
type idBatch struct {
	size int
	seen map[string]bool
	buf  []string
}

func newIDBatch(size int) idBatch { return idBatch{size: size, seen: map[string]bool{}} }

// add queues ids not seen before and returns the batches that filled.
func (b *idBatch) add(ids []string) [][]string {
	var full [][]string
	for _, id := range ids {
		if id == "" || b.seen[id] {
			continue
		}
		b.seen[id] = true
		b.buf = append(b.buf, id)
		if len(b.buf) == b.size {
			full = append(full, b.buf)
			b.buf = nil
		}
	}
	return full
}

// rest returns the partial batch left, if any, and empties it.
func (b *idBatch) rest() []string {
	r := b.buf
	b.buf = nil
	return r
}

// distinct is how many different ids were added.
func (b *idBatch) distinct() int { return len(b.seen) }
