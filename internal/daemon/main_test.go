package daemon_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
