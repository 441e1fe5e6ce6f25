package ber

import "io"

func readByte(reader io.Reader) (byte, error) {
	// A buffered reader (go-ldap wraps its connection in a bufio.Reader)
	// hands out one byte without the allocation of a one-byte slice per
	// identifier and length byte.
	if br, ok := reader.(io.ByteReader); ok {
		return br.ReadByte()
	}
	bytes := make([]byte, 1)
	_, err := io.ReadFull(reader, bytes)
	if err != nil {
		return 0, err
	}
	return bytes[0], nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func isEOCPacket(p *Packet) bool {
	return p != nil &&
		p.Tag == TagEOC &&
		p.ClassType == ClassUniversal &&
		p.TagType == TypePrimitive &&
		len(p.ByteValue) == 0 &&
		len(p.Children) == 0
}
