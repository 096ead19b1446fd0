package bench

import (
	"fmt"

	"github.com/folio-p2p/folio/book"
)

// warmPages reads pages [0, n) of b once, through one snapshot iterator,
// and checks that each is there.
func warmPages(b *book.Book, n uint64) error {
	s, err := b.Snapshot()
	if err != nil {
		return err
	}
	defer s.Close()
	var next uint64
	err = s.Pages(0, n, func(i uint64, _ []byte) error {
		if i != next {
			return fmt.Errorf("warm-up: page %d missing", next)
		}
		next++
		return nil
	})
	if err == nil && next != n {
		err = fmt.Errorf("warm-up: read %d of %d pages", next, n)
	}
	return err
}
