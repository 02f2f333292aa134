version = "2.10.3"
