class DictOfListsExpandInput(dict):
    pass


class ListOfDictsExpandInput(list):
    pass
