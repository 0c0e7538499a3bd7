from envdoctor.start import main

main()
