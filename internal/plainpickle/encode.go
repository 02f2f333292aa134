package plainpickle

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
)

// Encode pickles plain data (what encoding/json decodes: nil, bool,
// float64, json.Number, string, []any, map[string]any, and Go integers)
// with protocol 2, which every Python 3 reads: how an export gives
// Airflow back the pickled columns it expects (dag_run.conf).
func Encode(v any) ([]byte, error) {
	var b bytes.Buffer
	b.Write([]byte{0x80, 2})
	if err := encode(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('.')
	return b.Bytes(), nil
}

func encode(b *bytes.Buffer, v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested too deep", ErrNotPlain)
	}
	switch t := v.(type) {
	case nil:
		b.WriteByte('N')
	case bool:
		if t {
			b.WriteByte(0x88)
		} else {
			b.WriteByte(0x89)
		}
	case int:
		encodeInt(b, big.NewInt(int64(t)))
	case int64:
		encodeInt(b, big.NewInt(t))
	case *big.Int:
		encodeInt(b, t)
	case json.Number:
		if n, ok := new(big.Int).SetString(string(t), 10); ok {
			encodeInt(b, n)
			return nil
		}
		f, err := t.Float64()
		if err != nil {
			return fmt.Errorf("%w: number %s", ErrNotPlain, t)
		}
		return encode(b, f, depth)
	case float64:
		b.WriteByte('G')
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], math.Float64bits(t))
		b.Write(buf[:])
	case string:
		b.WriteByte('X')
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(len(t)))
		b.Write(buf[:])
		b.WriteString(t)
	case []any:
		b.WriteByte(']')
		if len(t) > 0 {
			b.WriteByte('(')
			for _, it := range t {
				if err := encode(b, it, depth+1); err != nil {
					return err
				}
			}
			b.WriteByte('e')
		}
	case map[string]any:
		b.WriteByte('}')
		if len(t) > 0 {
			b.WriteByte('(')
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if err := encode(b, k, depth+1); err != nil {
					return err
				}
				if err := encode(b, t[k], depth+1); err != nil {
					return err
				}
			}
			b.WriteByte('u')
		}
	default:
		return fmt.Errorf("%w: a Go %T", ErrNotPlain, v)
	}
	return nil
}

// encodeInt writes LONG1: the integer's little-endian two's complement.
func encodeInt(b *bytes.Buffer, n *big.Int) {
	if n.Sign() >= 0 && n.IsInt64() && n.Int64() < 1<<31 {
		b.WriteByte('J')
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(n.Int64()))
		b.Write(buf[:])
		return
	}
	// Two's complement in the fewest bytes that keep the sign.
	nbytes := (n.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*nbytes))
	u := new(big.Int).Set(n)
	if n.Sign() < 0 {
		u.Add(u, mod)
	}
	be := u.FillBytes(make([]byte, nbytes))
	b.WriteByte(0x8a)
	b.WriteByte(byte(nbytes))
	for i := len(be) - 1; i >= 0; i-- {
		b.WriteByte(be[i])
	}
}
