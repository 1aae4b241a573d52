// Command pidapp is a service used by the tests of the process file. It
// runs an App with UseProcessFile and reports on stdout, one line each.
//
//	pidapp -file F             launch; print "launched <pid>" or "refused <error>"
//	                           (then exit 1); stop when stdin closes, print
//	                           "stopped" or "stop error <error>" (then exit 1)
//	pidapp -file F -spawn      the same, and after the launch start a child
//	                           that sleeps, and print "child <pid>"
//	pidapp -file F -race M     for each line "go <round>" on stdin, launch new
//	                           Apps until one is not refused as held, and print
//	                           "won <round>" after holding the file a moment;
//	                           "lost <round> <error>" after -patience without a
//	                           win, "error <round> <error>" for another refusal;
//	                           a holder that finds marker file M already there,
//	                           or the process file holding another pid, prints
//	                           "double <round> <what>"
//	pidapp -sleep              sleep (the child of -spawn)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/lu-go/lu"
)

func main() {
	file := flag.String("file", "", "the process file")
	spawn := flag.Bool("spawn", false, "start a sleeping child after the launch")
	race := flag.String("race", "", "race for the process file, with this marker file")
	hold := flag.Duration("hold", 500*time.Microsecond, "how long a winner of -race holds the file")
	patience := flag.Duration("patience", 10*time.Second, "how long -race tries to win a round")
	sleep := flag.Bool("sleep", false, "sleep for an hour")
	flag.Parse()
	switch {
	case *sleep:
		time.Sleep(time.Hour)
	case *race != "":
		raceRounds(*file, *race, *hold, *patience)
	default:
		os.Exit(serve(*file, *spawn))
	}
}

func newApp(file string) *lu.App {
	a := &lu.App{UseProcessFile: true, ProcessFile: file}
	a.AddProcess(lu.Process{Name: "idle", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return nil
	}})
	return a
}

func serve(file string, spawn bool) int {
	a := newApp(file)
	if err := a.Launch(context.Background()); err != nil {
		fmt.Println("refused", oneLine(err))
		return 1
	}
	fmt.Println("launched", os.Getpid())
	if spawn {
		self, err := os.Executable()
		if err == nil {
			child := exec.Command(self, "-sleep")
			if err = child.Start(); err == nil {
				fmt.Println("child", child.Process.Pid)
			}
		}
		if err != nil {
			fmt.Println("spawn error", oneLine(err))
		}
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
	}
	if err := a.Shutdown(); err != nil {
		fmt.Println("stop error", oneLine(err))
		return 1
	}
	fmt.Println("stopped")
	return 0
}

func raceRounds(file, marker string, hold, patience time.Duration) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		round, ok := strings.CutPrefix(sc.Text(), "go ")
		if !ok {
			continue
		}
		fmt.Println(raceOnce(file, marker, hold, patience, round))
	}
}

// raceOnce launches Apps on the process file until one launch succeeds,
// for at most patience; a refusal other than ErrProcessFileHeld ends the
// round. The winner checks, while it holds the file, that no one else does.
func raceOnce(file, marker string, hold, patience time.Duration, round string) string {
	const backoff = 20 * time.Microsecond
	var refused error
	for deadline := time.Now().Add(patience); time.Now().Before(deadline); {
		a := newApp(file)
		refused = a.Launch(context.Background())
		if errors.Is(refused, lu.ErrProcessFileHeld) {
			time.Sleep(backoff) // leave the holder some CPU
			continue
		}
		if refused != nil {
			return "error " + round + " " + oneLine(refused)
		}
		return holdAlone(a, file, marker, hold, round)
	}
	return "lost " + round + " " + oneLine(refused)
}

// holdAlone checks that a holds the file alone: it creates the marker file
// exclusively, holds the file for a moment and then reads its own pid back
// from it.
func holdAlone(a *lu.App, file, marker string, hold time.Duration, round string) string {
	var double []string
	m, markErr := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	switch {
	case errors.Is(markErr, fs.ErrExist):
		double = append(double, "marker already there")
	case markErr != nil:
		double = append(double, "marker: "+oneLine(markErr))
	default:
		m.Close()
	}
	time.Sleep(hold)
	if got, err := os.ReadFile(file); err != nil || string(got) != strconv.Itoa(os.Getpid())+"\n" {
		double = append(double, fmt.Sprintf("process file holds %q (%v)", got, err))
	}
	if markErr == nil {
		os.Remove(marker)
	}
	if err := a.Shutdown(); err != nil {
		double = append(double, "shutdown: "+oneLine(err))
	}
	if len(double) > 0 {
		return "double " + round + " " + strings.Join(double, "; ")
	}
	return "won " + round
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
