package platform_test

import (
	"fmt"
	"net/url"

	"github.com/pureweb-auth/launchgate/platform"
)

func ExampleLaunchLink() {
	launchURL, err := url.Parse("https://stream.example.com/launch?region=eu#play")
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(platform.LaunchLink(launchURL, "", "eyJhbGciOi.payload.sig"))
	fmt.Println(platform.LaunchLink(launchURL, "projectToken", "a+b/c"))
	// Output:
	// https://stream.example.com/launch?region=eu&token=eyJhbGciOi.payload.sig#play
	// https://stream.example.com/launch?region=eu&projectToken=a%2Bb%2Fc#play
}
